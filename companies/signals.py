"""What the companies app announces to the apps built on it (matchmaking imports companies, never the reverse).

Every signal is sent with ``sender=Company``, inside the transaction of the change it announces, so a receiver
that fails rolls the whole change back.
"""

from django.dispatch import Signal

# A member asks for a copy of everything the service holds on them and their firm (the right of access:
# Vietnam's personal data law, 152-FZ Art. 14). Sent with ``company`` (None for a user without a firm) and
# ``user``. Each receiver returns a dict of JSON-ready values; companies.privacy merges them into the export.
# Receivers must include only what the member may see: nothing of another firm's members.
personal_data_requested = Signal()

# A member's account is about to be deleted. Sent with ``company`` (None for a user without a firm) and
# ``user``, before the account goes, so receivers can still read it: they remove the member's own data
# they keep (e.g. the addresses a digest was sent to).
member_withdrawing = Signal()

# A firm's last member is leaving: the profile is anonymised in place right after this. Sent with
# ``company``, still carrying its name and contacts. Receivers end what the firm takes part in and erase
# its name and contact from what they keep.
company_withdrawing = Signal()
