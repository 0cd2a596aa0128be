"""Admin for chamber staff running B2B meeting days: the events, who registered, the meeting requests, the
schedule (built, pinned, moved by hand), the check-in desk and the report afterwards.

A member of a chamber's staff sees and edits only the events its chamber organises (and their participants,
requests and meetings); superusers see all. Every write goes through events.services and events.schedule,
whose ValidationErrors are shown as form errors or messages.

One module per page group, each registering its models: events (with their interpreters, slots, schedule
builds and report), participants (with their availability), meeting requests and meetings; common holds
what they share (which events a member of staff sees, times in the event's zone).
"""

from events.admin import events, meetings, participants  # noqa: F401  (each registers its models)
