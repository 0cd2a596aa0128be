"""Which firms and chambers a week's run visits, and the claim: each firm's delivery row for the week created
with its content in one transaction (step 1 of the protocol in matchmaking.digests.delivery)."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction

from companies.models import Company, Organisation
from matchmaking import selectors
from matchmaking.digests.weeks import IsoWeek
from matchmaking.models import DigestDelivery, DigestItem

# Namespace of the transaction locks a claim holds on its firms (the firm's id is the other half of the key).
FIRM_CLAIM_LOCK = 0x434C4149  # "CLAI"

# Firms per dispatched task. A batch shares one SMTP connection, one database connection and a handful of
# queries for what all its digests need; 50 keeps a batch to about a second on a healthy mail server, so a
# redelivered batch redoes little and two workers still share a weekly run evenly.
FIRMS_PER_TASK = 50


def firms_with_readers(company_ids: list[int]) -> dict[int, Company]:
    return Company.objects.prefetch_related("memberships__user", "listings").in_bulk(company_ids)


def lock_firm_claims(company_ids: list[int]) -> None:
    """Hold, until the transaction ends, the claim lock of each firm: a claim that then reads what the firm
    was told sees every other claim of its firms committed (a weekly digest's or an introduction's)."""
    with connection.cursor() as cursor:
        # Taken in id order by every claim, so two claims of overlapping firms never wait on each other in a ring.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, id::int) FROM unnest(%s::bigint[]) AS id",
            [FIRM_CLAIM_LOCK, sorted(set(company_ids))],
        )


def claim_firm_deliveries(companies: list[Company], *, week: IsoWeek) -> dict[int, tuple[DigestDelivery, bool]]:
    """Each firm's delivery row for the week, created with its items where it did not exist (the claim), in
    one transaction for the whole batch: firm id → (delivery, created by this call)."""
    weekly = DigestDelivery.Kind.WEEKLY
    with transaction.atomic():
        lock_firm_claims([company.pk for company in companies])
        rows = DigestDelivery.objects.filter(company__in=companies, iso_year=week.year, iso_week=week.week, kind=weekly)
        claimed = {delivery.company_id: (delivery, False) for delivery in rows}
        unclaimed = [company for company in companies if company.pk not in claimed]
        if not unclaimed:
            return claimed
        plans = selectors.firm_digest_plans(unclaimed)
        fresh = [
            DigestDelivery(
                company_id=pk,
                iso_year=week.year,
                iso_week=week.week,
                **({} if any(plan.values()) else {"status": DigestDelivery.Status.SKIPPED, "reason": "nothing new"}),
            )
            for pk, plan in sorted(plans.items())  # one order for every worker: no deadlock between two claims
        ]
        try:
            with transaction.atomic():
                created = DigestDelivery.objects.bulk_create(fresh)
        except IntegrityError:  # another worker claimed some of them meanwhile: theirs stand, one by one
            created = []
            for delivery in fresh:
                row, new = DigestDelivery.objects.get_or_create(
                    company_id=delivery.company_id,
                    iso_year=week.year,
                    iso_week=week.week,
                    kind=weekly,
                    defaults={"status": delivery.status, "reason": delivery.reason},
                )
                if new:
                    created.append(row)
                else:
                    claimed[row.company_id] = (row, False)
        DigestItem.objects.bulk_create(
            DigestItem(delivery=delivery, match=match, kind=kind)
            for delivery in created
            for kind, matches in plans[delivery.company_id].items()
            for match in matches
        )
        claimed.update((delivery.company_id, (delivery, True)) for delivery in created)
    return claimed


def digest_targets(
    week: IsoWeek, country: str | None = None, firm_ids: list[int] | None = None
) -> tuple[list[int], list[int]]:
    """(firm ids, chamber ids) a run for the week visits."""
    if firm_ids:
        return sorted(firm_ids), []
    firms = list(selectors.digest_candidates(week.year, week.week, country).values_list("pk", flat=True))
    chambers = Organisation.objects.filter(vets_companies=True)
    if country:
        chambers = chambers.filter(country=country)
    return firms, list(chambers.order_by("pk").values_list("pk", flat=True))
