"""Pages of a firm's introductions: the signed-in member's list, and the page a digest's link opens.

A digest's link carries a signed token naming the match, the firm and the member it was sent to, so
answering from it needs no login. Contact details appear only once both firms accepted (double opt-in), and
then only to a signed-in member of the firm: the link itself may have been forwarded.
"""

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from companies import selectors as company_selectors
from companies.mail import claim_url
from companies.models import Company, Membership
from companies.recipients import load_action, profile_language
from companies.views import speak_language
from matchmaking import selectors, services
from matchmaking.digests.rendering import ANSWER_SALT, public_profile
from matchmaking.explain import LazySectorNames, explain
from matchmaking.introductions import answer_by
from matchmaking.models import MEMBER_OUTCOMES, MEMBER_VISIBLE_STATUSES, Match

ANSWERABLE = {"accept": True, "decline": False}


def introduction_answer(request: HttpRequest, token: str) -> HttpResponse:
    data = load_action(token, ANSWER_SALT, settings.DIGEST_LINK_MAX_AGE_DAYS)
    if data is None:
        raise Http404(_("This link is not valid or has expired."))
    company = get_object_or_404(Company.objects.exclude(status=Company.Status.WITHDRAWN), pk=data.get("company"))
    # A counterpart hidden for want of consent since the link was sent is a 404 too (selectors.seen_by).
    match = get_object_or_404(
        Match.objects.select_related("company_vn", "company_ru"),
        selectors.seen_by(company),
        pk=data.get("match"),
    )
    member = Membership.objects.filter(pk=data.get("member"), company=company).select_related("user").first()
    speak_language(request, (member.language if member and member.language else "") or profile_language(company))

    # An imported firm has not consented to share anything yet: it claims its profile before answering.
    claimed = company.memberships.exists()
    error = ""
    if request.method == "POST" and claimed:
        action = request.POST.get("answer", "")
        if action not in ANSWERABLE:
            error = _("Choose accept or decline.")
        else:
            by = member.user if member else (request.user if request.user.is_authenticated else None)
            try:
                services.respond(match, company, ANSWERABLE[action], by=by)
            except services.MatchWorkflowError:
                match.refresh_from_db()
                error = _("This introduction can no longer be answered: it is %(status)s.") % {
                    "status": match.get_status_display().lower()
                }
            else:
                return redirect(request.path)

    side = match.side_of(company)
    names = LazySectorNames()
    counterpart = match.counterpart_of(company)
    their_side = "ru" if side == "vn" else "vn"
    connected = match.status == Match.Status.CONNECTED
    # The link answers without a login, but it lives for weeks in a mailbox anyone may be forwarded: once
    # connected, the counterpart's contact is shown only to a signed-in member of this firm.
    member_signed_in = (
        request.user.is_authenticated and Membership.objects.filter(user=request.user, company=company).exists()
    )
    context = {
        "match": match,
        "company": company,
        "counterpart": public_profile(counterpart, names),
        "reasons": explain(match, side, sector_names=names),
        "claimed": claimed,
        "claim_url": "" if claimed else f"{claim_url(company)}?next={quote(request.path)}",
        "my_answer": getattr(match, f"response_{side}"),
        "their_answer": getattr(match, f"response_{their_side}"),
        "answerable": match.status == Match.Status.INTRODUCED
        and getattr(match, f"response_{side}") == Match.Response.PENDING,
        # Contact details are what both firms agree to exchange by accepting; never before.
        "contact": counterpart if connected and member_signed_in else None,
        "connected": connected,
        "login_url": f"{reverse('login')}?next={quote(request.path)}",
        "error": error,
    }
    return render(request, "matchmaking/answer.html", context, status=400 if error else 200)


# --- the signed-in member's introductions -----------------------------------------------------------------


def _my_company_or_none(request: HttpRequest) -> Company | None:
    return company_selectors.company_of(request.user)


@login_required
def my_introductions(request: HttpRequest) -> HttpResponse:
    company = _my_company_or_none(request)
    if company is None:
        messages.info(request, _("Describe your firm first; introductions follow once it is published."))
        return redirect("my-profile")
    matches = selectors.member_introductions(company, MEMBER_VISIBLE_STATUSES)
    page = Paginator(matches, 20).get_page(request.GET.get("page"))
    side = "vn" if company.country == "VN" else "ru"
    names = LazySectorNames()
    # The other firm's public page exists only while it is shown to others (directory_views.company_detail).
    public = set(
        Company.objects.shown_to_others()
        .filter(pk__in={match.counterpart_of(company).pk for match in page})
        .values_list("pk", flat=True)
    )
    rows = []
    for match in page:
        counterpart = match.counterpart_of(company)
        mine, theirs = getattr(match, f"response_{side}"), getattr(match, f"response_{'ru' if side == 'vn' else 'vn'}")
        waiting = match.status == Match.Status.INTRODUCED
        rows.append(
            {
                "match": match,
                "counterpart": public_profile(counterpart, names),
                "reasons": explain(match, side, sector_names=names),
                "profile_url": reverse("directory-company", args=[counterpart.pk]) if counterpart.pk in public else "",
                "answer_by": answer_by(match.introduced_at) if waiting else None,
                "my_answer": mine,
                "their_answer": theirs,
                "answerable": waiting and mine == Match.Response.PENDING,
                # Contact details are what both firms agree to exchange by accepting; never before.
                "contact": counterpart if match.status == Match.Status.CONNECTED else None,
                "my_outcome": getattr(match, f"outcome_{side}"),
            }
        )
    outcomes = [(outcome.value, outcome.label) for outcome in MEMBER_OUTCOMES]
    return render(
        request,
        "matchmaking/my_introductions.html",
        {"company": company, "rows": rows, "page": page, "outcomes": outcomes},
    )


def _my_match(request: HttpRequest, pk: int) -> tuple[Company, Match]:
    company = _my_company_or_none(request)
    if company is None:
        raise Http404(_("You have no firm yet."))
    # Another firm's match is a 404, not a 403: its existence is none of this member's business.
    match = get_object_or_404(selectors.member_matches(company, MEMBER_VISIBLE_STATUSES), pk=pk)
    return company, match


@login_required
@require_POST
def answer_my_introduction(request: HttpRequest, pk: int) -> HttpResponse:
    company, match = _my_match(request, pk)
    answer = request.POST.get("answer", "")
    if answer not in ANSWERABLE:
        messages.error(request, _("Choose accept or decline."))
        return redirect("my-introductions")
    try:
        services.respond(match, company, ANSWERABLE[answer], by=request.user)
    except services.MatchWorkflowError:
        match.refresh_from_db()
        messages.error(
            request,
            _("This introduction can no longer be answered: it is %(status)s.")
            % {"status": match.get_status_display().lower()},
        )
    else:
        counterpart = match.counterpart_of(company).name
        if match.status == Match.Status.CONNECTED:
            messages.success(
                request, _("You are connected with %(firm)s: their contact details are below.") % {"firm": counterpart}
            )
        elif ANSWERABLE[answer]:
            messages.success(request, _("You accepted. We let you know when %(firm)s answers.") % {"firm": counterpart})
        else:
            messages.success(request, _("You declined the introduction to %(firm)s.") % {"firm": counterpart})
    return redirect(f"{reverse('my-introductions')}#match-{match.pk}")


@login_required
@require_POST
def record_my_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    company, match = _my_match(request, pk)
    outcome = request.POST.get("outcome", "")
    if outcome not in {o.value for o in MEMBER_OUTCOMES}:
        messages.error(request, _("Choose what came of the introduction."))
    else:
        try:
            services.record_outcome(match, company, outcome, by=request.user)
        except services.MatchWorkflowError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Thank you: the outcome helps your chamber make better introductions."))
    return redirect(f"{reverse('my-introductions')}#match-{match.pk}")
