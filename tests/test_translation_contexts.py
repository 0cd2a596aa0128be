"""A catalogue entry must not stand for two meanings: a short msgid used in several places needs a context.

"by %(date)s" was one msgid for a trade target's year on the home page and for the deadline to answer an
introduction in the digest; Vietnamese translated it "hạn trả lời: …" ("reply deadline"), which is wrong under
the trade targets. gettext keys translations by (msgctxt, msgid), so one msgid gets one translation wherever it
is used: the same few words meaning two things need two contexts (``pgettext``, ``{% translate … context … %}``,
``{% blocktranslate context … %}``).

The test reads the sources themselves, the way makemessages does (templates through Django's ``templatize``,
then the gettext calls in the code), so it does not wait for a regenerated catalogue. The risk is in fragments:
a sentence carries its own meaning, a single word ("Declined", "from", "Held") or a word around a placeholder
("by %(date)s") does not, and in Russian or Vietnamese its translation changes with what it refers to. Each such
fragment used in more than one source file (a template's .html and .txt alternatives of one email count as one)
must either carry a context or be listed in SAME_MEANING below with the one meaning it has everywhere.
"""

import ast
import functools
import io
import re
import tokenize
from collections import defaultdict
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.translation.template import templatize

from seeds.models import TradeFigure

ROOT = Path(__file__).resolve().parent.parent
APPS = ["companies", "config", "events", "matchmaking", "seeds"]  # what makemessages reads (tests, bench: no)

# Keyword -> (index of the context argument or None, index of the msgid), as makemessages passes them to xgettext.
KEYWORDS = {
    "gettext": (None, 0),
    "gettext_lazy": (None, 0),
    "gettext_noop": (None, 0),
    "_": (None, 0),
    "ngettext": (None, 0),
    "ngettext_lazy": (None, 0),
    "pgettext": (0, 1),
    "pgettext_lazy": (0, 1),
    "npgettext": (0, 1),
    "npgettext_lazy": (0, 1),
}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdfi]|%[sdfi]")

# Fragments reviewed as meaning the same thing in every file that uses them, each with that meaning. Add an entry
# only after reading every use; when the uses differ, give each its own context instead.
SAME_MEANING = {
    # Labels of the same attribute of a firm, an event or a match (field, column, filter).
    "Country": "the country of a firm or an event",
    "country": "the country of a firm, an organisation or an event",
    "City": "the city of a firm or an event",
    "city": "the city of a firm, an organisation or an event",
    "Size": "a firm's size class",
    "Sector": "an ISIC division",
    "sector": "an ISIC division",
    "Sectors": "a firm's ISIC divisions",
    "Website": "a firm's website",
    "Password": "an account's password",
    "name": "the name of a record (firm, organisation, event)",
    "slug": "the identifier of a record in its address",
    "kind": "the type of a record",
    "description": "free text describing a record",
    "status": "the workflow state of a record",
    "Status": "the workflow state of a record",
    "created": "when a record was created",
    "updated": "when a record was last changed",
    "role": "what a person or firm does in the relation (staff role, buyer or seller)",
    "firm": "a company taking part (a match's, a participant's)",
    "Firm": "a company taking part in an event",
    "score": "how well two firms match",
    "Score": "how well two firms match",
    "confidence": "the engine's calibrated confidence in a match",
    "Confidence": "the engine's calibrated confidence in a match",
    "reasons": "why two firms were matched",
    "note": "a free-text remark kept with a record",
    "Chamber": "the chamber of commerce a firm or staff member belongs to",
    "Languages": "the languages a firm does business in",
    "Offers": "what a firm offers",
    "Needs": "what a firm needs",
    "Vetting": "a chamber's check of a firm's profile",
    "Consent": "a firm's consent to the processing of its data",
    "Origin": "admin section: where a record came from",
    "Draft": "state of something not yet published (a profile, an event)",
    "Declined": "an introduction declined by a firm (its status, a firm's answer, the weekly count)",
    "English": "the language",
    "Vietnamese": "the language",
    "Russian": "the language",
    # Events: meetings, tables and the agenda.
    "meetings": "an event's scheduled meetings",
    "Meetings": "an event's scheduled meetings",
    "table": "the table a meeting takes place at",
    "Table": "the table a meeting takes place at",
    "interpreter": "the interpreter of a meeting",
    "Interpreter": "the interpreter of a meeting",
    "Interpreter: %(name)s (%(pair)s)": "the interpreter of a meeting and the languages they interpret",
    "from": "the firm that sent a meeting request (a time window's start has its own context)",
    "to": "the firm a meeting request was sent to",
    "Day": "the event day of an availability window",
    "From": "the time an availability window starts",
    "To": "the time an availability window ends",
    "Time": "the time of a meeting in an agenda",
    "With": "the other firm of a meeting in an agenda",
    "Venue": "where an event takes place",
    "Held": "an event that has taken place (the report's column has its own context)",
    "Events": "events where firms meet (the service's B2B events, those the articles report)",
    "Firms": "companies (published in the directory, named by an article)",
    # The facts from the articles.
    "Period": "the period a trade figure covers",
    "Flow": "the direction of a trade figure (two-way, exports one way)",
    "Sources": "the articles the service took facts from",
    # Navigation, buttons and page furniture doing the same thing wherever they appear.
    "Accept": "a firm's answer to a request or an introduction",
    "Decline": "a firm's answer to a request or an introduction",
    "Approve": "staff approve a suggested match",
    "Save": "save a form",
    "Search": "run a search",
    "Choose…": "empty choice of a select",
    "Previous": "the previous item or page of a list",
    "Next": "the next item or page of a list",
    "Pages": "label of a pagination",
    "Home": "the admin's first page, in breadcrumbs",
    "Report": "an event's report page",
    "Preferences": "a member's preferences page",
    "Unsubscribe": "stop receiving an email",
    "Figure": "a figure of the chamber dashboard",
    "Note": "a staff note on a suggested match",
    "required": "marks a form field that must be filled",
    "Hello %(name)s,": "greeting at the top of an email",
    "accepted": "introductions accepted this week, in the staff digest",
    "declined": "introductions declined this week, in the staff digest",
    "connected": "introductions accepted by both firms this week, in the staff digest",
}


def _calls(code: str):
    """(context, msgid) of each gettext-family call with literal arguments in Python source."""
    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(code).readline)
        if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)
    ]
    for i, token in enumerate(tokens[:-1]):
        if token.type != tokenize.NAME or token.string not in KEYWORDS or tokens[i + 1].string != "(":
            continue
        if i and tokens[i - 1].string == "def":
            continue
        args, parts = [], []
        for tok in tokens[i + 2 :]:
            if tok.type == tokenize.STRING:
                try:
                    parts.append(ast.literal_eval(tok.string))
                except (ValueError, SyntaxError):  # an f-string: makemessages cannot read it either
                    break
            elif tok.string in (",", ")") and parts:
                args.append("".join(parts))
                parts = []
                if tok.string == ")" or len(args) == 3:
                    break
            else:
                break
        context_at, msgid_at = KEYWORDS[token.string]
        if len(args) > msgid_at:
            yield (args[context_at] if context_at is not None else None), args[msgid_at]


def _source_code(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        return text
    # templatize turns a template into the Python-like text makemessages hands to xgettext: one call per
    # translatable string, on one line, among blanked-out markup whose indentation means nothing.
    return "\n".join(line.lstrip() for line in templatize(text, origin=str(path)).splitlines())


def extract_messages(root: Path = ROOT) -> dict[tuple[str | None, str], set[str]]:
    """(msgctxt, msgid) -> the source files using it, for every literal translatable string of the apps."""
    uses: dict[tuple[str | None, str], set[str]] = defaultdict(set)
    for app in APPS:
        for path in sorted((root / app).rglob("*")):
            if path.suffix not in (".py", ".html", ".txt") or {"__pycache__", "migrations"} & set(path.parts):
                continue
            for key in _calls(_source_code(path)):
                uses[key].add(path.relative_to(root).as_posix())
    return uses


@functools.cache
def project_messages() -> dict[tuple[str | None, str], set[str]]:
    return extract_messages(ROOT)


def _source(file: str) -> str:
    """An email's .html and .txt alternatives are one source: the same message in two formats."""
    path = Path(file)
    return path.with_suffix("").as_posix() if path.suffix in (".html", ".txt") else file


def is_fragment(msgid: str) -> bool:
    """One word, alone or around placeholders: too little text to tell a translator what it refers to."""
    return len(re.findall(r"\w+", PLACEHOLDER.sub(" ", msgid))) <= 1


def fragments_without_context(uses: dict[tuple[str | None, str], set[str]]) -> dict[str, list[str]]:
    return {
        msgid: sorted(files)
        for (context, msgid), files in uses.items()
        if context is None and is_fragment(msgid) and len({_source(f) for f in files}) > 1
    }


def test_extraction_reads_templates_and_python_like_makemessages():
    uses = project_messages()
    assert len(uses) > 500, "the extractor read too few strings"
    assert "config/templates/home.html" in uses[(None, "Trade between Vietnam and Russia")]
    assert "companies/models.py" in uses[(None, "Chamber of commerce")]  # gettext_lazy as _
    assert "events/models.py" in uses[("meeting request status", "Accepted")]  # pgettext_lazy
    assert any(msgid == "%(counter)s published firm in the directory." for _ctx, msgid in uses)  # blocktranslate count


def test_a_fragment_used_for_two_meanings_is_caught():
    # The defect of issue 18, as the sources had it: one "by %(date)s" in the home page and in the digest email.
    uses = {
        (None, "by %(date)s"): {"config/templates/home.html", "matchmaking/templates/matchmaking/email/item.html"},
        (None, "Trade between Vietnam and Russia"): {"config/templates/home.html", "seeds/views.py"},
        (None, "Unsubscribe"): {"x/email/digest.html", "x/email/digest.txt"},
    }
    assert fragments_without_context(uses) == {
        "by %(date)s": ["config/templates/home.html", "matchmaking/templates/matchmaking/email/item.html"],
    }


def test_every_fragment_used_in_several_places_has_a_context_or_one_reviewed_meaning():
    unreviewed = {
        msgid: files
        for msgid, files in fragments_without_context(project_messages()).items()
        if msgid not in SAME_MEANING
    }
    assert not unreviewed, (
        "These short msgids are used in several files without a context. If a use means something else, give it "
        "its own context (pgettext / {% translate 'x' context 'y' %}); if all mean the same, add the msgid to "
        f"SAME_MEANING with that meaning: {unreviewed}"
    )


def test_by_date_has_a_context_in_each_of_its_meanings():
    contexts = {
        file: context
        for (context, msgid), files in project_messages().items()
        if msgid == "by %(date)s"
        for file in files
    }
    trade_target = contexts["seeds/templates/seeds/_trade_figure_row.html"]  # the home page's trade table
    answer_deadline = contexts["matchmaking/templates/matchmaking/email/item.html"]
    assert None not in (trade_target, answer_deadline) and trade_target != answer_deadline


@pytest.mark.django_db
def test_vietnamese_home_page_does_not_call_a_trade_target_a_reply_deadline(client):
    TradeFigure.objects.create(
        period="by 2020",
        period_end="2020-12-31",
        kind=TradeFigure.Kind.TARGET,
        value_usd_million=10000,
        source_article="000_6ac39ebf8d94dca2.txt",
    )
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "31/12/2020" in page or "31-12-2020" in page
    assert "hạn trả lời" not in page
