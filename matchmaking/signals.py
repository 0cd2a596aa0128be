"""Matchmaking's receivers: each one hands the change to the module that acts on it.

A change to a firm's profile queues a recompute of its matches (matchmaking.recompute_queue); a member's data
rights, announced by companies.privacy through companies.signals, are matchmaking.data_rights.
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from companies.models import Company, Listing
from companies.signals import company_withdrawing, member_withdrawing, personal_data_requested
from matchmaking import data_rights, recompute_queue


@receiver(post_save, sender=Company, dispatch_uid="matchmaking.company_saved")
def company_saved(sender, instance: Company, raw: bool = False, update_fields=None, **kwargs) -> None:
    recompute_queue.company_saved(instance, raw=raw, update_fields=update_fields)


@receiver(pre_delete, sender=Company, dispatch_uid="matchmaking.company_deleting")
def company_deleting(sender, instance: Company, **kwargs) -> None:
    recompute_queue.company_deleting(instance)


@receiver(post_save, sender=Listing, dispatch_uid="matchmaking.listing_saved")
@receiver(post_delete, sender=Listing, dispatch_uid="matchmaking.listing_deleted")
def listing_changed(sender, instance: Listing, raw: bool = False, **kwargs) -> None:
    recompute_queue.listing_changed(instance, raw=raw)


@receiver(m2m_changed, sender=Company.sectors.through, dispatch_uid="matchmaking.company_sectors_changed")
def company_sectors_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    recompute_queue.sectors_changed(instance, action=action, reverse=reverse, pk_set=pk_set)


@receiver(personal_data_requested, dispatch_uid="matchmaking.personal_data_requested")
def export_matches(sender, company: Company | None, user, **kwargs) -> dict:
    return data_rights.export_matches(company, user=user)


@receiver(member_withdrawing, dispatch_uid="matchmaking.member_withdrawing")
def forget_member(sender, company: Company | None, user, **kwargs) -> None:
    data_rights.forget_member(company, user=user)


@receiver(company_withdrawing, dispatch_uid="matchmaking.company_withdrawing")
def end_matches_of_withdrawing_firm(sender, company: Company, **kwargs) -> None:
    data_rights.end_matches_of_withdrawing_firm(company)
