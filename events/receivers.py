"""The events app's part in a member's data rights, announced by companies.privacy through companies.signals
(companies never imports events): a copy of the firm's event data in the member's export, and what happens
to the firm's participations when a member or the firm leaves."""

from __future__ import annotations

from django.db.models import Q
from django.dispatch import receiver

from companies.models import Company
from companies.signals import company_withdrawing, member_withdrawing, personal_data_requested
from events import services
from events.models import Meeting, MeetingRequest, Participant


@receiver(personal_data_requested, dispatch_uid="events.personal_data_requested")
def export_participations(sender, company: Company | None, user, **kwargs) -> dict:
    """Every event the firm registered for, with its times, requests and meetings, as the firm sees them:
    the other firms by name only, and of each meeting the firm's own outcome (the other's is theirs)."""
    if company is None:
        return {"events": []}
    own = {address.lower() for address in (user.email, company.contact_email) if address}
    participations = (
        Participant.objects.filter(company=company)
        .select_related("event__organiser")
        .prefetch_related("windows")
        .order_by("event__starts_on", "pk")
    )
    related = ("requester__company", "invitee__company", "meeting__slot")
    exported = []
    for participant in participations:
        event = participant.event
        requests = (
            MeetingRequest.objects.filter(Q(requester=participant) | Q(invitee=participant))
            .select_related(*related)
            .order_by("created_at", "pk")
        )
        rows, meetings = [], []
        for request in requests:
            sent = request.requester_id == participant.pk
            other = request.invitee if sent else request.requester
            rows.append(
                {
                    "direction": "sent" if sent else "received",
                    "counterpart": other.company.name,
                    "counterpart_country": other.company.country,
                    "status": request.status,
                    "message": request.message,
                    "added_by_staff": request.added_by_staff,
                    "created_at": request.created_at,
                    "answered_at": request.answered_at,
                }
            )
            meeting: Meeting | None = getattr(request, "meeting", None)
            if meeting is not None:
                meetings.append(
                    {
                        "counterpart": other.company.name,
                        "slot": {
                            "number": meeting.slot.number,
                            "starts_at": meeting.slot.starts_at,
                            "ends_at": meeting.slot.ends_at,
                        },
                        "table": meeting.table,
                        "my_outcome": meeting.outcome_requester if sent else meeting.outcome_invitee,
                    }
                )
        meetings.sort(key=lambda row: (row["slot"]["starts_at"], row["table"]))
        exported.append(
            {
                "event": {
                    "name": event.name,
                    "slug": event.slug,
                    "organiser": event.organiser.name,
                    "city": event.city,
                    "venue": event.venue,
                    "starts_on": event.starts_on,
                    "ends_on": event.ends_on,
                    "time_zone": event.time_zone,
                    "status": event.status,
                },
                "status": participant.status,
                "role": participant.role,
                "wants_help": participant.wants_help,
                "note": participant.note,
                "attendance": participant.attendance,
                "checked_in_at": participant.checked_in_at,
                "registered_at": participant.registered_at,
                "registered_by_you": participant.registered_by_id == user.pk,
                "windows": [{"starts_at": w.starts_at, "ends_at": w.ends_at} for w in participant.windows.all()],
                "agenda_sent_at": participant.agenda_sent_at,
                # Only the member's own address (or the firm's contact): the other members' are theirs.
                "agenda_sent_to": [a for a in participant.agenda_sent_to if a.lower() in own],
                "requests": rows,
                "meetings": meetings,
            }
        )
    return {"events": exported}


@receiver(member_withdrawing, dispatch_uid="events.member_withdrawing")
def forget_member(sender, company: Company | None, user, **kwargs) -> None:
    if company is not None:
        services.forget_member_address(company, user.email)


@receiver(company_withdrawing, dispatch_uid="events.company_withdrawing")
def leave_events(sender, company: Company, **kwargs) -> None:
    services.remove_withdrawn_firm(company)
