"""Weekly digests: each firm hears of its new introductions, each chamber's staff of what waits for review.

- ``weeks``: the ISO week a digest belongs to (IsoWeek).
- ``planning``: which firms and chambers a run visits, and the claim of each firm's delivery with its content.
- ``delivery``: the protocol that sends each digest exactly once (see its docstring), and a whole run.
- ``rendering``: what the emails say, in each reader's language, and the links in them.

The mail itself (one SMTP connection per batch, the retry policy, footer and claim links) is companies.mail's.
"""
