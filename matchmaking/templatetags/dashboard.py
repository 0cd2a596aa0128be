"""The admin index's summary of the chamber dashboard: ``{% load dashboard %}{% dashboard_summary as summary %}``.

A template tag rather than a custom AdminSite, so the admin site stays Django's own; the figures are the
dashboard's, from the same cache (matchmaking.dashboard.chamber_figures).
"""

from __future__ import annotations

from django import template

from matchmaking.dashboard import Figures, chamber_figures, scope_for

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_summary(context) -> Figures | None:
    """This week's headline figures for the signed-in staff member's chamber (all chambers for superusers);
    None for staff without a chamber."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_active or not user.is_staff:
        return None
    scope = scope_for(user)
    return None if scope is None else chamber_figures(scope)
