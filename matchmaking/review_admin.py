"""The review workbench in the admin: one suggested pair at a time with both firms side by side, decided by
keyboard; one firm's suggestions together; bulk approval above a confidence. Views of MatchAdmin, which
wires them under /admin/matchmaking/match/review/ with the admin site's login, its permissions (viewing
needs view_match, deciding change_match) and its chamber scoping: a staff member opens, decides and undoes
only pairs with a firm of their chamber (selectors.visible_to_staff); any other pair is a 404.

Every action is a POST answered by a redirect to the next pair, so the page works without JavaScript; the
script at the bottom of the template only maps keys to its buttons and links."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from companies.models import Company, CooperationForm, Country, Language, Organisation, Sector
from companies.selectors import sectors_by_code
from matchmaking import review_queue, selectors, services
from matchmaking.explain import STAFF, explain
from matchmaking.models import Match

# Reasons a reviewer gives most often for turning a pair down: one click (or key) each, kept as the note.
REJECT_REASONS = {
    "competitors": _("Competitors"),
    "in_contact": _("Already in contact"),
    "thin_profile": _("Profile too thin"),
}
WAITING_CHOICES = [
    ("", _("any time")),
    ("7", _("a week or more")),
    ("30", _("a month or more")),
    ("90", _("three months or more")),
]
BAND_CHOICES = [("", _("any")), ("high", "≥ 80%"), ("medium", "50 – 80%"), ("low", "20 – 50%"), ("lowest", "< 20%")]
# The score parts shown as bars, in this order, with what each measures.
SCORE_PARTS = {
    "forward": _("Russian offers meet Vietnamese needs"),
    "backward": _("Vietnamese offers meet Russian needs"),
    "sectors": _("Sectors"),
    "cooperation": _("Forms of cooperation"),
    "language": _("Common language"),
}
SKIPPED_KEY, LAST_KEY = "review_skipped", "review_last"
SKIPPED_KEPT = 500  # pairs skipped that a session remembers; the oldest are forgotten first
COUNT_UP_TO = 1000  # the page says "1,000+ pairs wait" rather than count a million


class ReviewFilterForm(forms.Form):
    """The queue's filters (review_queue.ReviewFilters) from the query string; an unknown value is ignored."""

    chamber = forms.TypedChoiceField(label=_("Chamber"), required=False, coerce=int, empty_value=None)
    country = forms.ChoiceField(label=_("Firms of"), required=False)
    sector = forms.ChoiceField(label=_("Sector"), required=False)
    band = forms.ChoiceField(label=_("Confidence"), required=False, choices=BAND_CHOICES)
    waiting = forms.TypedChoiceField(
        label=_("Waiting"), required=False, coerce=int, empty_value=None, choices=WAITING_CHOICES
    )

    def __init__(self, data, *, user) -> None:
        super().__init__(data)
        chambers = Organisation.objects.filter(vets_companies=True)
        if not user.is_superuser:
            staff = getattr(user, "chamber_staff", None)
            chambers = chambers.none() if staff is None else chambers.filter(pk=staff.chamber_id)
        self.fields["chamber"].choices = [("", _("all"))] + [(chamber.pk, chamber.name) for chamber in chambers]
        self.fields["country"].choices = [("", _("both countries"))] + list(Country.choices)
        self.fields["sector"].choices = [("", _("all"))] + [
            (code, f"{code} {sector.name}")
            for code, sector in sectors_by_code().items()
            if sector.level == Sector.Level.DIVISION
        ]
        self.is_valid()  # fills cleaned_data with the valid fields; the others are left out

    def _value(self, name: str):
        return getattr(self, "cleaned_data", {}).get(name) or None

    def filters(self) -> review_queue.ReviewFilters:
        return review_queue.ReviewFilters(
            chamber=self._value("chamber"),
            country=self._value("country"),
            sector=self._value("sector"),
            band=self._value("band"),
            waiting_days=self._value("waiting"),
        )

    def summary(self) -> list[str]:
        """The valid filters as "label: value" for the page."""
        shown = []
        for name, field in self.fields.items():
            value = self._value(name)
            if value is not None:
                label = dict((str(key), text) for key, text in field.choices).get(str(value), value)
                shown.append(f"{field.label}: {label}")
        return shown

    def query(self) -> str:
        """The valid filters as a query string ("" when none), kept on every link and form of the workbench."""
        values = {name: self._value(name) for name in self.fields}
        return urlencode({name: value for name, value in values.items() if value is not None})


# --- presentation --------------------------------------------------------------------------------------


def _quotes(match: Match) -> dict[str, dict[str, set[str]]]:
    """The texts each firm's offers and needs are quoted with in the reasons: {"vn"/"ru": {"fit"/"rival": texts}}.
    Reasons are stored from the Vietnamese firm's side (matchmaking.engine.types.Reason)."""
    quotes = {side: {"fit": set(), "rival": set()} for side in ("vn", "ru")}
    for reason in match.reasons or []:
        if not isinstance(reason, dict):
            continue
        kind, data = reason.get("kind"), reason.get("data") or {}
        if kind == "need_met":  # the Russian firm's offer meets the Vietnamese firm's need
            quotes["vn"]["fit"].add(data.get("need") or "")
            quotes["ru"]["fit"].add(data.get("offer") or "")
        elif kind == "offer_wanted":  # the Vietnamese firm's offer meets the Russian firm's need
            quotes["vn"]["fit"].add(data.get("offer") or "")
            quotes["ru"]["fit"].add(data.get("need") or "")
        elif kind == "rivals":
            quotes["vn"]["rival"] |= {data.get("offer") or "", data.get("need") or ""}
            quotes["ru"]["rival"] |= {data.get("counterpart_offer") or "", data.get("counterpart_need") or ""}
    for side in quotes.values():
        for texts in side.values():
            texts.discard("")
    return quotes


def highlight(text: str, *, fit: set[str], rival: set[str]) -> SafeString:
    """``text`` escaped, with the passages the reasons quote in <mark> (a rival's in <mark class="rival">).
    A quote is found where it stands in the text; a text quoted whole with other spacing is marked whole."""
    spans: list[tuple[int, int, str]] = []
    for css, quotes in (("", fit), ("rival", rival)):
        for quote in quotes:
            start = text.find(quote)
            if start >= 0:
                spans.append((start, start + len(quote), css))
            elif " ".join(quote.split()) == " ".join(text.split()):
                spans.append((0, len(text), css))
    parts, at = [], 0
    for start, end, css in sorted(spans):
        if start < at:  # overlapping quotes: the first one wins
            continue
        parts.append(conditional_escape(text[at:start]))
        attribute = f' class="{css}"' if css else ""
        parts.append(f"<mark{attribute}>{conditional_escape(text[start:end])}</mark>")
        at = end
    parts.append(conditional_escape(text[at:]))
    return mark_safe("".join(parts))  # every piece of the text is escaped above


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _firm_panel(company: Company, *, quotes: dict[str, set[str]], sectors: dict[str, Sector]) -> dict:
    listings = sorted(company.listings.all(), key=lambda listing: listing.pk)
    return {
        "company": company,
        "sectors": [str(sectors[code]) if code in sectors else code for code in company.sector_codes],
        "languages": [_label(Language, code) for code in company.languages],
        "offers": [_listing(listing, quotes) for listing in listings if listing.direction == "offer"],
        "needs": [_listing(listing, quotes) for listing in listings if listing.direction == "need"],
    }


def _listing(listing, quotes: dict[str, set[str]]) -> dict:
    return {
        "text": highlight(listing.text, fit=quotes["fit"], rival=quotes["rival"]),
        "cooperation": [_label(CooperationForm, value) for value in listing.cooperation],
    }


def _bars(match: Match) -> list[dict]:
    parts = match.score_parts or {}
    bars = [
        {"label": label, "value": parts[name], "width": round(100 * min(max(float(parts[name]), 0.0), 1.0))}
        for name, label in SCORE_PARTS.items()
        if isinstance(parts.get(name), (int, float))
    ]
    bars.append(
        {
            "label": gettext("Combined score"),
            "value": match.score,
            "width": round(100 * min(max(match.score, 0.0), 1.0)),
        }
    )
    return bars


def _rivals_sentence(match: Match) -> str | None:
    rivals = [r for r in match.reasons or [] if isinstance(r, dict) and r.get("kind") == "rivals"]
    return " ".join(explain(Match(reasons=rivals), STAFF, sector_names={})) if rivals else None


def _sector_names() -> dict[str, str]:
    return {code: sector.name for code, sector in sectors_by_code().items()}


# --- the session: skipped pairs and the last decision ------------------------------------------------------


def _skipped(request: HttpRequest) -> list[int]:
    return [pk for pk in request.session.get(SKIPPED_KEY, []) if isinstance(pk, int)]


def _skip(request: HttpRequest, pk: int) -> list[int]:
    skipped = [other for other in _skipped(request) if other != pk] + [pk]
    request.session[SKIPPED_KEY] = skipped[-SKIPPED_KEPT:]
    return request.session[SKIPPED_KEY]


def _last_decision(request: HttpRequest) -> dict | None:
    """The decision the page offers to undo: the user's last one, while it is less than a minute old."""
    last = request.session.get(LAST_KEY)
    at = parse_datetime(last.get("at", "")) if isinstance(last, dict) else None
    if at is None:
        return None
    left = services.UNDO_SECONDS - (timezone.now() - at).total_seconds()
    return {**last, "seconds_left": int(left)} if left > 0 else None


# --- views -------------------------------------------------------------------------------------------------


def _url(name: str, query: str, *args) -> str:
    url = reverse(f"admin:matchmaking_match_{name}", args=args)
    return f"{url}?{query}" if query else url


def _context(model_admin, request: HttpRequest, title: str, **extra) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": Match._meta,
        "title": title,
        "has_change_permission": model_admin.has_change_permission(request),
        **extra,
    }


def _may_view(model_admin, request: HttpRequest) -> None:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied


def _may_decide(model_admin, request: HttpRequest) -> None:
    if not model_admin.has_change_permission(request):
        raise PermissionDenied


def _visible_match(request: HttpRequest, pk: int) -> Match:
    match = selectors.visible_to_staff(request.user, Match.objects.filter(pk=pk)).first()
    if match is None:
        raise Http404
    return match


def workbench(model_admin, request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The pair ``pk``, or the first pair of the queue the filters pick (leaving out those skipped)."""
    _may_view(model_admin, request)
    form = ReviewFilterForm(request.GET, user=request.user)
    query = form.query()
    queue = review_queue.review_queue(request.user, filters=form.filters())
    skipped = _skipped(request)
    if pk is None:
        pk = queue.first(skip=skipped)
    pair = None if pk is None else review_queue.review_pair(request.user, pk)
    if pk is not None and pair is None:
        raise Http404
    waiting = queue.count(up_to=COUNT_UP_TO)
    context = _context(
        model_admin,
        request,
        gettext("Review workbench"),
        pair=pair,
        form=form,
        query=query,
        skipped=len(skipped),
        waiting=waiting,
        waiting_more=waiting >= COUNT_UP_TO,
        last=_last_decision(request),
        reject_reasons=REJECT_REASONS,
        introduce_now=hasattr(services, "introduce_now"),
    )
    if pair is not None:
        match = pair.match
        quotes = _quotes(match)
        sectors = sectors_by_code()
        context.update(
            pair=pair,
            match=match,
            suggested=match.status == Match.Status.SUGGESTED,
            sides=[
                {
                    "side": side,
                    "panel": _firm_panel(pair.firms[side], quotes=quotes[side], sectors=sectors),
                    "history": pair.history[side],
                    "waiting": pair.waiting[side],
                    # A firm's place counts its matches with every chamber: told only for a firm whose matches
                    # are all the reader's to see (their own chamber's), or it would betray the others.
                    "place": getattr(match, f"ahead_{side}") + 1
                    if _sees_all_of(request.user, pair.firms[side])
                    else None,
                }
                for side in ("vn", "ru")
            ],
            bars=_bars(match),
            rivals=_rivals_sentence(match),
            reasons=explain(match, STAFF, sector_names=_sector_names()),
            quality_display=f"{match.score:.2f}" if match.confidence is None else f"{match.confidence:.0%}",
            decide_url=_url("review_decide", query, match.pk),
            undo_url=_url("review_undo", query, match.pk),
            next_url=_url("review_next", query, match.pk),
            previous_url=_url("review_previous", query, match.pk),
        )
    return TemplateResponse(request, "admin/matchmaking/match/review.html", context)


def _sees_all_of(user, firm: Company) -> bool:
    staff = getattr(user, "chamber_staff", None)
    return user.is_superuser or (staff is not None and firm.chamber_id == staff.chamber_id)


def navigate(model_admin, request: HttpRequest, pk: int, *, forward: bool) -> HttpResponse:
    """j and k: the pair after (or before) ``pk`` in the queue, skipped ones included."""
    _may_view(model_admin, request)
    _visible_match(request, pk)
    form = ReviewFilterForm(request.GET, user=request.user)
    queue = review_queue.review_queue(request.user, filters=form.filters())
    place = queue.place(pk)
    if forward:
        found = queue.after(place) if place is not None else queue.first()
    else:
        found = queue.before(place) if place is not None else None
    if found is None:
        messages.info(request, gettext("That was the last pair.") if forward else gettext("This is the first pair."))
        found = pk
    return HttpResponseRedirect(_url("review_pair", form.query(), found))


def decide(model_admin, request: HttpRequest, pk: int) -> HttpResponse:
    """A decision on the pair (approve, reject with a note, introduce now) or a skip; then the next pair."""
    if request.method != "POST":
        return HttpResponseRedirect(reverse("admin:matchmaking_match_review_pair", args=[pk]))
    _may_view(model_admin, request)
    action = request.POST.get("action")
    if action not in ("approve", "reject", "introduce", "skip"):
        return HttpResponseBadRequest("Unknown action.")
    if action != "skip":
        _may_decide(model_admin, request)
    match = _visible_match(request, pk)
    form = ReviewFilterForm(request.GET, user=request.user)
    queue = review_queue.review_queue(request.user, filters=form.filters())
    place = queue.place(pk)  # before the decision takes the pair out of the queue
    try:
        if action == "approve":
            services.approve([match], by=request.user)
        elif action == "reject":
            services.reject([match], by=request.user, note=_reject_note(request))
        elif action == "introduce":
            services.introduce_now(match, by=request.user)
    except services.MatchWorkflowError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(_url("review_pair", form.query(), pk))
    if action == "skip":
        skipped = _skip(request, pk)
    else:
        skipped = _skipped(request)
        if action == "introduce":  # the emails are on their way: nothing to take back
            request.session.pop(LAST_KEY, None)
        else:
            request.session[LAST_KEY] = {
                "match": pk,
                "action": action,
                "at": timezone.now().isoformat(),
                "pair": str(match),
            }
        messages.success(
            request,
            {
                "approve": gettext("Approved: %(pair)s."),
                "reject": gettext("Rejected: %(pair)s."),
                "introduce": gettext("Approved, and both firms are being emailed the introduction now: %(pair)s."),
            }[action]
            % {"pair": match},
        )
    found = queue.after(place, skip=skipped) if place is not None else None
    if found is None:
        found = queue.first(skip=skipped)
    return HttpResponseRedirect(
        _url("review_pair", form.query(), found) if found is not None else _url("review", form.query())
    )


def _reject_note(request: HttpRequest) -> str:
    reason = REJECT_REASONS.get(request.POST.get("reason", ""))
    text = request.POST.get("note", "").strip()[:1000]
    return " — ".join(str(part) for part in (reason, text) if part)


def undo(model_admin, request: HttpRequest, pk: int) -> HttpResponse:
    """Take back the user's last decision on the pair, within a minute; then show the pair again."""
    if request.method != "POST":
        return HttpResponseRedirect(reverse("admin:matchmaking_match_review_pair", args=[pk]))
    _may_decide(model_admin, request)
    match = _visible_match(request, pk)
    query = ReviewFilterForm(request.GET, user=request.user).query()
    try:
        services.undo_decision(match, by=request.user)
    except services.MatchWorkflowError as error:
        messages.error(request, str(error))
    else:
        request.session.pop(LAST_KEY, None)
        messages.success(request, gettext("Decision undone: %(pair)s is waiting for review again.") % {"pair": match})
    return HttpResponseRedirect(_url("review_pair", query, pk))


def reset_skipped(model_admin, request: HttpRequest) -> HttpResponse:
    """Bring the pairs skipped in this session back into the queue."""
    _may_view(model_admin, request)
    query = ReviewFilterForm(request.GET, user=request.user).query()
    if request.method == "POST":
        request.session.pop(SKIPPED_KEY, None)
    return HttpResponseRedirect(_url("review", query))


class TopForm(forms.Form):
    top = forms.IntegerField(label=_("Approve the top"), min_value=1, max_value=100)


def firm(model_admin, request: HttpRequest, company_pk: int) -> HttpResponse:
    """One firm's suggestions in its own order, with "approve the top N"; and its earlier matches."""
    _may_view(model_admin, request)
    review = review_queue.firm_review(request.user, company_pk)
    if review is None:
        raise Http404
    if request.method == "POST":
        _may_decide(model_admin, request)
        form = TopForm(request.POST)
        if form.is_valid():
            top = list(review_queue.firm_suggestions(request.user, review.firm)[: form.cleaned_data["top"]])
            try:
                changed = services.approve(top, by=request.user, note=request.POST.get("note", "").strip()[:1000])
            except services.MatchWorkflowError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    ngettext("%(count)d match approved.", "%(count)d matches approved.", len(changed))
                    % {"count": len(changed)},
                )
            return HttpResponseRedirect(request.path)
    else:
        form = TopForm(initial={"top": 1})
    names = _sector_names()
    side = selectors.side_of_country(review.firm.country)
    rows = [
        {
            "match": match,
            "rank": rank,
            "counterpart": match.company_ru if side == "vn" else match.company_vn,
            "reasons": " ".join(explain(match, STAFF, sector_names=names)),
            "rivals": _rivals_sentence(match),
        }
        for rank, match in enumerate(review.suggestions, start=1)
    ]
    panel = _firm_panel(review.firm, quotes={"fit": set(), "rival": set()}, sectors=sectors_by_code())
    context = _context(
        model_admin,
        request,
        gettext("Suggestions for %(firm)s") % {"firm": review.firm.name},
        review=review,
        rows=rows,
        panel=panel,
        side=side,
        form=form,
    )
    return TemplateResponse(request, "admin/matchmaking/match/review_firm.html", context)


class BulkApproveForm(forms.Form):
    least = forms.IntegerField(
        label=_("Approve every suggestion with a confidence of at least (%)"),
        min_value=1,
        max_value=100,
    )
    expected = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)


def bulk_approve(model_admin, request: HttpRequest) -> HttpResponse:
    """Approve, in one go, every suggestion of the queue (with its filters) at or above a confidence. The
    first step counts them; the second approves at most that many, the best first."""
    _may_view(model_admin, request)
    filter_form = ReviewFilterForm(request.GET, user=request.user)
    query = filter_form.query()
    queue = review_queue.review_queue(request.user, filters=filter_form.filters())
    form = BulkApproveForm(request.POST if request.method == "POST" else request.GET or None)
    count = None
    if form.is_valid():
        chosen = queue.matches.filter(quality__gte=form.cleaned_data["least"] / 100)
        if request.method == "POST":
            _may_decide(model_admin, request)
            expected = form.cleaned_data["expected"]
            if expected is None:
                return HttpResponseBadRequest("Count the suggestions first.")
            approved = services.approve_all(
                chosen, by=request.user, note=form.cleaned_data["note"].strip(), limit=expected
            )
            messages.success(
                request,
                ngettext("%(count)d match approved.", "%(count)d matches approved.", approved) % {"count": approved},
            )
            return HttpResponseRedirect(_url("review", query))
        count = chosen.count()
        form = BulkApproveForm(initial={**form.cleaned_data, "expected": count})
    context = _context(
        model_admin,
        request,
        gettext("Bulk approve"),
        form=form,
        filter_form=filter_form,
        query=query,
        count=count,
        least=request.GET.get("least"),
    )
    return TemplateResponse(request, "admin/matchmaking/match/review_bulk.html", context)
