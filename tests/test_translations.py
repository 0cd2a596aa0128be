"""The Vietnamese and Russian catalogues are complete, and the compiled ones are what the site serves.

A string added without a translation (or left fuzzy by makemessages, which then never shows) would reach a
Vietnamese or Russian reader in English; these tests read the .po files themselves, and then render a few
real strings of the events pages and emails through Django's translation machinery.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ["vi", "ru"]

ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    """A quoted .po string's text: the quotes off, the C escapes gettext writes undone."""
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(0)), text[1:-1])


def parse_po(path: Path) -> list[dict]:
    """Each entry of a .po file: msgid, msgid_plural, msgstr forms and flags (obsolete ``#~`` entries left out)."""
    entries, entry, field = [], None, None

    def close():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if not line:
            close()
            entry, field = None, None
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if field[0] == "msgstr":
                entry["msgstr"][field[1]] += _unquote(line)
            else:
                entry[field[0]] += _unquote(line)
        else:
            keyword, _space, value = line.partition(" ")
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if match:
                field = ("msgstr", int(match.group(1)))
                entry["msgstr"][field[1]] = _unquote(value)
            elif keyword == "msgstr":
                field = ("msgstr", 0)
                entry["msgstr"][0] = _unquote(value)
            else:
                field = (keyword, None)
                entry[keyword] = _unquote(value)
    return entries


def _po(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_has_no_untranslated_or_fuzzy_entry(language):
    entries = [e for e in parse_po(_po(language)) if e["msgid"]]  # the header has an empty msgid
    assert len(entries) > 500, "the parser read too few entries"
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    assert not fuzzy, f"{language}: fuzzy entries: {fuzzy}"
    assert not untranslated, f"{language}: untranslated entries: {untranslated}"


@pytest.mark.parametrize(("language", "forms"), [("vi", 1), ("ru", 3)])
def test_plural_entries_have_every_form(language, forms):
    header = next(e for e in parse_po(_po(language)) if not e["msgid"])["msgstr"][0]
    assert f"nplurals={forms};" in header
    for entry in parse_po(_po(language)):
        if "msgid_plural" in entry:
            assert sorted(entry["msgstr"]) == list(range(forms)), entry["msgid"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_msgfmt_reports_everything_translated(language):
    if shutil.which("msgfmt") is None:
        pytest.skip("GNU gettext's msgfmt is not installed")
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(_po(language))],
        capture_output=True,
        text=True,
        env={"LC_ALL": "C", "PATH": os.environ.get("PATH", "")},
    )
    assert result.returncode == 0, result.stderr
    assert "translated message" in result.stderr
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr, result.stderr


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_is_up_to_date(language):
    if shutil.which("msgfmt") is None:
        pytest.skip("GNU gettext's msgfmt is not installed")
    po = _po(language)
    # A .mo compiled from the .po as it stands has the same messages as the committed one.
    fresh = subprocess.run(["msgfmt", "-o", "-", str(po)], capture_output=True, check=True).stdout
    assert fresh == po.with_suffix(".mo").read_bytes(), f"run compilemessages -l {language}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_site_serves_every_entry_of_the_catalogue(language):
    # What the .po says is what gettext gives (the compiled catalogue is current and nothing shadows it).
    entries = [e for e in parse_po(_po(language)) if e["msgid"] and "msgid_plural" not in e and "msgctxt" not in e]
    with translation.override(language):
        wrong = {
            e["msgid"]: translation.gettext(e["msgid"])
            for e in entries
            if translation.gettext(e["msgid"]) != e["msgstr"][0]
        }
    assert not wrong


@pytest.mark.parametrize(
    ("language", "heading", "my_agenda"),
    [
        ("vi", "Các cuộc gặp được đề xuất", "Lịch gặp của tôi"),
        ("ru", "Предлагаемые встречи", "Моя программа встреч"),
    ],
)
def test_event_page_strings_are_translated(language, heading, my_agenda):
    with translation.override(language):
        assert translation.gettext("Suggested meetings") == heading
        assert translation.gettext("My agenda") == my_agenda
    with translation.override("en"):
        assert translation.gettext("Suggested meetings") == "Suggested meetings"


def test_russian_plurals_of_the_agenda_email():
    # events/templates/events/email/agenda.txt and event_detail.html, as blocktranslate renders them.
    singular = "%(firm)s has %(counter)s meeting at %(event)s:"
    plural = "%(firm)s has %(counter)s meetings at %(event)s:"
    values = {"firm": "Volga Coffee Trading", "event": "Hanoi Coffee Day"}
    with translation.override("ru"):
        said = {n: translation.ngettext(singular, plural, n) % {**values, "counter": n} for n in (1, 3, 5, 11, 21, 22)}
        requests_left = {
            n: translation.ngettext(
                "Your firm may send %(counter)s more request.",
                "Your firm may send %(counter)s more requests.",
                n,
            )
            % {"counter": n}
            for n in (1, 3, 5)
        }
    assert said[1] == "У фирмы Volga Coffee Trading 1 встреча на мероприятии Hanoi Coffee Day:"
    assert said[3] == "У фирмы Volga Coffee Trading 3 встречи на мероприятии Hanoi Coffee Day:"
    assert said[5] == "У фирмы Volga Coffee Trading 5 встреч на мероприятии Hanoi Coffee Day:"
    assert said[11].endswith("11 встреч на мероприятии Hanoi Coffee Day:")
    assert said[21].endswith("21 встреча на мероприятии Hanoi Coffee Day:")
    assert said[22].endswith("22 встречи на мероприятии Hanoi Coffee Day:")
    assert requests_left == {
        1: "Ваша фирма может отправить ещё 1 заявку.",
        3: "Ваша фирма может отправить ещё 3 заявки.",
        5: "Ваша фирма может отправить ещё 5 заявок.",
    }


def test_vietnamese_has_one_plural_form():
    with translation.override("vi"):
        for n in (1, 3, 5):
            assert (
                translation.ngettext(
                    "%(count)d meeting unpinned.",
                    "%(count)d meetings unpinned.",
                    n,
                )
                % {"count": n}
                == f"Đã bỏ cố định {n} cuộc gặp."
            )


def test_agenda_subject_renders_in_russian():
    from django.template import Context, Template

    template = Template(
        "{% load i18n %}{% blocktranslate with event=name count counter=count %}"
        "Your agenda for {{ event }}: {{ counter }} meeting{% plural %}"
        "Your agenda for {{ event }}: {{ counter }} meetings{% endblocktranslate %}"
    )
    with translation.override("ru"):
        rendered = {n: template.render(Context({"name": "Hanoi Coffee Day", "count": n})) for n in (1, 3, 5)}
    assert rendered == {
        1: "Ваша программа встреч на мероприятии Hanoi Coffee Day: 1 встреча",
        3: "Ваша программа встреч на мероприятии Hanoi Coffee Day: 3 встречи",
        5: "Ваша программа встреч на мероприятии Hanoi Coffee Day: 5 встреч",
    }
