"""The page an introduction link in a digest opens: the counterpart, the reasons, accept or decline.

The link carries a signed token naming the match, the firm and the member it was sent to, so answering
needs no login. Contact details appear only once both firms accepted (double opt-in).
"""

from django.conf import settings
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from urllib.parse import quote

from companies.models import Company, Membership
from companies.recipients import load_action, profile_language
from companies.views import speak_language
from matchmaking import services
from matchmaking.digests import ANSWER_SALT, claim_url, public_profile
from matchmaking.explain import LazySectorNames, explain
from matchmaking.models import Match

ANSWERABLE = {"accept": True, "decline": False}


def introduction_answer(request: HttpRequest, token: str) -> HttpResponse:
    data = load_action(token, ANSWER_SALT, settings.DIGEST_LINK_MAX_AGE_DAYS)
    if data is None:
        raise Http404(_("This link is not valid or has expired."))
    company = get_object_or_404(Company, pk=data.get("company"))
    match = get_object_or_404(
        Match.objects.select_related("company_vn", "company_ru"),
        Q(company_vn=company) | Q(company_ru=company), pk=data.get("match"),
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
    context = {
        "match": match, "company": company, "counterpart": public_profile(counterpart, names),
        "reasons": explain(match, side, sector_names=names), "claimed": claimed,
        "claim_url": "" if claimed else f"{claim_url(company)}?next={quote(request.path)}",
        "my_answer": getattr(match, f"response_{side}"), "their_answer": getattr(match, f"response_{their_side}"),
        "answerable": match.status == Match.Status.INTRODUCED
        and getattr(match, f"response_{side}") == Match.Response.PENDING,
        # Contact details are what both firms agree to exchange by accepting; never before.
        "contact": counterpart if match.status == Match.Status.CONNECTED else None,
        "error": error,
    }
    return render(request, "matchmaking/answer.html", context, status=400 if error else 200)
