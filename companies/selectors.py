"""Reads of company profiles that are more than a filter."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from companies.models import Company, Listing, Membership


def _with_profile(queryset: QuerySet[Company]) -> QuerySet[Company]:
    return queryset.select_related("chamber", "activity_division").prefetch_related(
        "sectors", Prefetch("listings", queryset=Listing.objects.prefetch_related("sectors"))
    )


def published_companies() -> QuerySet[Company]:
    return _with_profile(Company.objects.published())


def company_of(user) -> Company | None:
    """The company a member acts for, or None."""
    if not user.is_authenticated:
        return None
    membership = Membership.objects.filter(user=user).select_related("company").first()
    return membership.company if membership else None


def companies_visible_to_staff(user) -> QuerySet[Company]:
    """Superusers see every company; chamber staff only those their chamber vets."""
    queryset = Company.objects.all()
    if user.is_superuser:
        return queryset
    staff = getattr(user, "chamber_staff", None)
    if staff is None:
        return queryset.none()
    return queryset.filter(chamber_id=staff.chamber_id)
