"""Deterministic synthetic company profiles for load tests and matching experiments.

Each firm plays one of a set of roles per sector (a Vietnamese coffee exporter, a Russian coffee roaster,
...). The roles of the two countries are written to complement each other, so a matcher has real signal
to find: what a Vietnamese role needs, some Russian role offers, and the other way round.

Only ``random.Random(seed)`` draws values, and profile ``i`` depends only on the draws before it, so
``generate_profiles(n, seed)`` is a prefix of ``generate_profiles(m, seed)`` for ``m > n``.

The tables the firms are drawn from (places, words, roles, names) are JSON files in ``data/synthetic/``,
so they can be edited without touching this code:

- ``places.json``: each country's cities (English, Vietnamese and Russian name, telephone area code), the
  main cities firms without a role city live in, and the city placeholders (``{ru_city}``...) built from them.
- ``words.json``: placeholder words shared by every role, and the English tails of "mix" texts.
- ``roles_vn.json``, ``roles_ru.json``: the roles of each country, grouped by sector. A role's ``offers`` and
  ``needs`` are text templates per language; its ``words`` fill their placeholders.
- ``names.json``: brands, legal-name prefixes and people's names (weighted for Vietnamese family names).

A placeholder's vocabulary in JSON is a list (the same words in every language), an object of lists per
language, or ``{"range": [start, stop(, step)]}`` (numbers, as Python's ``range``). Russian counted nouns
agree with the numeral's last digit, so every range used before a Russian noun steps so that its numbers all
take the genitive plural (5, 10, 50...).
"""

from __future__ import annotations

import functools
import json
import random
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Union

_DATA = Path(__file__).resolve().parent / "data" / "synthetic"
_COUNTRIES = ("VN", "RU")

# --- public shapes -----------------------------------------------------------------------------


class GeneratedListing(NamedTuple):
    direction: str  # "offer" or "need"
    kind: str  # "product", "service", "technology" or "partnership"
    text: str
    cooperation: tuple[str, ...]


@dataclass
class Profile:
    external_id: str
    name: str
    country: str
    city: str
    activity_code: str
    sectors: list[str]
    size: str
    founded: int
    languages: list[str]
    website: str
    contact_name: str
    contact_email: str
    contact_phone: str
    listings: list[GeneratedListing]
    text_language: str  # "vi", "ru" or "en": the language every listing text is written in
    role: str  # which complementary role the firm was drawn from


# --- the tables, read from data/synthetic/ -----------------------------------------------------


class _City(NamedTuple):
    en: str
    vi: str
    ru: str
    area: str  # telephone area code


# A placeholder's vocabulary: the same words in every language, words per language, or a number range.
Vocab = Union[tuple[str, ...], Mapping[str, tuple[str, ...]], range]


@dataclass(frozen=True)
class _Role:
    key: str
    country: str
    sectors: tuple[str, ...]
    codes: tuple[str, ...]
    # (name in the firm's own language, name in English); "{b}" marks where the brand goes.
    industry: tuple[tuple[str, str], ...]
    offers: Mapping[str, tuple[str, ...]]
    needs: Mapping[str, tuple[str, ...]]
    offer_kind: str = "product"
    need_kind: str = "partnership"
    offer_coop: tuple[str, ...] = ("supply",)
    need_coop: tuple[str, ...] = ("distribution",)
    cities: tuple[str, ...] = ()
    words: Mapping[str, Vocab] = field(default_factory=dict)


class _Tables(NamedTuple):
    cities: dict[str, dict[str, _City]]  # country → English name → city
    main_cities: dict[str, tuple[str, ...]]  # country → where firms without a role city are
    words: dict[str, Vocab]  # placeholders every role may use
    mix_tails: dict[str, tuple[str, ...]]  # direction → English tails of "mix" texts
    roles: dict[str, tuple[_Role, ...]]  # country → roles
    names: dict[str, dict[str, Any]]  # country → brands, prefixes and people's names


def _read(name: str) -> Any:
    with (_DATA / f"{name}.json").open(encoding="utf-8") as file:
        return json.load(file)


def _tuples(value: Any) -> Any:
    """JSON arrays as tuples, at every depth (the tables are never changed)."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    if isinstance(value, dict):
        return {key: _tuples(item) for key, item in value.items()}
    return value


def _vocab(raw: list[str] | dict[str, Any]) -> Vocab:
    if isinstance(raw, list):
        return tuple(raw)
    if "range" in raw:
        return range(*raw["range"])
    return {lang: tuple(words) for lang, words in raw.items()}


def _names(cities: Mapping[str, _City], keys: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {lang: tuple(getattr(cities[key], lang) for key in keys) for lang in ("vi", "en", "ru")}


def _role(raw: dict[str, Any], *, country: str) -> _Role:
    """One role of ``roles_<country>.json``; keys left out keep the defaults of ``_Role``."""
    optional: dict[str, Any] = {key: raw[key] for key in ("offer_kind", "need_kind") if key in raw}
    optional.update({key: tuple(raw[key]) for key in ("offer_coop", "need_coop", "cities") if key in raw})
    if "words" in raw:
        optional["words"] = {key: _vocab(vocab) for key, vocab in raw["words"].items()}
    return _Role(
        key=raw["key"],
        country=country,
        sectors=tuple(raw["sectors"]),
        codes=tuple(raw["codes"]),
        industry=_tuples(raw["industry"]),
        offers=_tuples(raw["offers"]),
        needs=_tuples(raw["needs"]),
        **optional,
    )


@functools.cache
def _tables() -> _Tables:
    """Every table of ``data/synthetic/``, read on first use and then kept for the process."""
    places = _read("places")
    cities = {country: {c["en"]: _City(**c) for c in places[country]["cities"]} for country in _COUNTRIES}
    words: dict[str, Vocab] = {
        key: _names(cities[spec["country"]], tuple(spec["cities"])) for key, spec in places["city_words"].items()
    }
    common = _read("words")
    words.update({key: _vocab(raw) for key, raw in common["common"].items()})
    return _Tables(
        cities=cities,
        main_cities={country: tuple(places[country]["main"]) for country in _COUNTRIES},
        words=words,
        mix_tails=_tuples(common["mix_tails"]),
        roles={
            country: tuple(
                _role(raw, country=country)
                for group in _read(f"roles_{country.lower()}").values()  # groups are sectors
                for raw in group
            )
            for country in _COUNTRIES
        },
        names=_tuples(_read("names")),
    )


def roles() -> dict[str, tuple[_Role, ...]]:
    """The roles firms are drawn from, per country ("VN", "RU"), in the order of the JSON files."""
    return _tables().roles


# --- drawing a firm ----------------------------------------------------------------------------

_SIZES = ("micro", "small", "medium", "large")
_SIZE_WEIGHTS = (15, 40, 33, 12)
# About half of each country's firms write in their own language (a "mix" text is Vietnamese with an English
# phrase), the rest in English, as in the development sets (/work/shared/matching-eval, dev and dev2: 55–60 %
# of Vietnamese and 40–50 % of Russian firms write in their own language), so the demo shows Vietnamese
# needs meeting Russian offers beside pairs that share English.
_TEXT_LANGUAGES = {"VN": (("vi", 40), ("en", 50), ("mix", 10)), "RU": (("ru", 50), ("en", 50))}
_OWN_LANGUAGE = {"VN": "vi", "RU": "ru"}
_OTHER_LANGUAGE = {"VN": "ru", "RU": "vi"}
EMPTY_SECTORS_SHARE = 0.15


def _ascii(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _ascii(text).lower()).strip("-")


def _number(value: int, lang: str) -> str:
    if lang == "en":
        return f"{value:,}"
    if lang == "vi":
        return f"{value:,}".replace(",", ".")
    # Russian writes four-digit numbers without a separator.
    return f"{value:,}".replace(",", " ") if value >= 10000 else str(value)


class _Filler(dict):
    """Placeholder values for one firm's texts: drawn on first use, then kept, so offer and need agree.

    ``{fish2}`` draws from the ``fish`` words and avoids a value already drawn for ``{fish}``.
    """

    def __init__(self, rng: random.Random, lang: str, words: Mapping[str, Vocab], city: str):
        super().__init__(city=city)
        self.rng, self.lang, self.words = rng, lang, words
        self.used: dict[str, list[str]] = {}

    def __missing__(self, key: str) -> str:
        base = key.rstrip("0123456789")
        vocab = self.words.get(base) or _tables().words[base]
        if isinstance(vocab, range):
            value = _number(self.rng.choice(vocab), self.lang)
        else:
            options = vocab[self.lang] if isinstance(vocab, Mapping) else vocab
            used = self.used.setdefault(base, [])
            value = self.rng.choice([o for o in options if o not in used] or options)
            used.append(value)
        self[key] = value
        return value


def _fill(template: str, filler: _Filler) -> str:
    text = template.format_map(filler)
    return text[0].upper() + text[1:]


def _company_name(rng: random.Random, role: _Role, text_lang: str) -> tuple[str, str]:
    """Return (legal name, website slug stem)."""
    local, english = rng.choice(role.industry)
    names = _tables().names[role.country]
    if role.country == "VN":
        brand = rng.choice(names["brands"])
        brand_latin = _ascii(brand)
        english_name = english.format(b=brand_latin) if "{b}" in english else f"{brand_latin} {english}"
        wants_local = rng.random() < (0.8 if text_lang in ("vi", "mix") else 0.3)
        if wants_local:
            core = local.format(b=brand) if "{b}" in local else f"{rng.choice(names['name_prefixes'])}{local} {brand}"
            form = rng.choices(("Công ty TNHH", "Công ty CP", "Công ty Cổ phần"), (50, 35, 15))[0]
            name = f"{form} {core}"
        else:
            name = f"{english_name} {rng.choice(('JSC', 'Co., Ltd.', 'Corporation', 'JSC', 'Co., Ltd.'))}"
        return name, _slug(english_name)
    brand, brand_latin = rng.choice(names["brands"])
    english_name = english.format(b=brand_latin) if "{b}" in english else f"{brand_latin} {english}"
    wants_local = rng.random() < (0.8 if text_lang == "ru" else 0.3)
    if wants_local:
        core = local.format(b=brand) if "{b}" in local else f"{brand} {local}"
        form = rng.choices(("ООО", "АО", "ПАО"), (70, 25, 5))[0]
        name = f"{form} «{core}»"
    else:
        name = f"{english_name} {rng.choice(('LLC', 'JSC', 'LLC', 'Group'))}"
    return name, _slug(english_name)


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _vn_contact(rng: random.Random, city: _City, domain: str) -> tuple[str, str, str]:
    names = _tables().names["VN"]
    gender = rng.choice("mf")
    family = rng.choices([f for f, _ in names["family"]], [w for _, w in names["family"]])[0]
    given = rng.choice(names["given"][gender])
    name = f"{family} {rng.choice(names['middle'][gender])} {given}"
    email = f"{_slug(given)}.{_slug(family)}@{domain}"
    if rng.random() < 0.3:
        phone = f"+84 9{rng.randint(0, 9)} {_digits(rng, 3)} {_digits(rng, 4)}"
    elif len(city.area) == 2:  # Hanoi and Ho Chi Minh City have 8-digit subscriber numbers
        phone = f"+84 {city.area} {rng.choice('36')}{_digits(rng, 3)} {_digits(rng, 4)}"
    else:
        phone = f"+84 {city.area} {rng.choice('36')}{_digits(rng, 2)} {_digits(rng, 4)}"
    return name, email, phone


def _ru_contact(rng: random.Random, city: _City, domain: str, cyrillic: bool) -> tuple[str, str, str]:
    names = _tables().names["RU"]
    gender = rng.choice("mf")
    given, given_latin = rng.choice(names["given"][gender])
    surname, surname_latin = rng.choice(names["surnames"])
    if gender == "f":  # the surnames are male forms; the female form adds "а"/"a" (Иванов → Иванова)
        surname, surname_latin = surname + "а", surname_latin + "a"
    patronymic = rng.choice(names["patronymics"])[gender == "f"]
    if cyrillic:
        name = f"{given} {patronymic} {surname}" if rng.random() < 0.4 else f"{given} {surname}"
    else:
        name = f"{given_latin} {surname_latin}"
    email = f"{given_latin[0].lower()}.{surname_latin.lower()}@{domain}"
    # Area code and subscriber number together make ten digits.
    if len(city.area) == 3:
        phone = f"+7 {city.area} {_digits(rng, 3)} {_digits(rng, 2)} {_digits(rng, 2)}"
    else:
        phone = f"+7 {city.area} {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)}"
    return name, email, phone


def _listings(
    rng: random.Random, role: _Role, direction: str, filler: _Filler, text_lang: str
) -> list[GeneratedListing]:
    templates = (role.offers if direction == "offer" else role.needs)[filler.lang]
    count = 2 if len(templates) > 1 and rng.random() < 0.35 else 1
    kind = role.offer_kind if direction == "offer" else role.need_kind
    forms = role.offer_coop if direction == "offer" else role.need_coop
    result = []
    for template in rng.sample(templates, count):
        text = _fill(template, filler)
        if text_lang == "mix":
            text = f"{text} {rng.choice(_tables().mix_tails[direction])}"
        cooperation = tuple(rng.sample(forms, rng.randint(1, min(2, len(forms)))))
        result.append(GeneratedListing(direction, kind, text, cooperation))
    return result


def _profile(rng: random.Random, index: int, country: str) -> Profile:
    tables = _tables()
    role = rng.choice(tables.roles[country])
    languages, weights = zip(*_TEXT_LANGUAGES[country], strict=True)
    text_lang = rng.choices(languages, weights)[0]
    vocab_lang = "vi" if text_lang == "mix" else text_lang

    city_key = rng.choice(role.cities if role.cities and rng.random() < 0.8 else tables.main_cities[country])
    city = tables.cities[country][city_key]

    name, slug = _company_name(rng, role, text_lang)
    domain = f"{slug}-{index}.example"
    if country == "VN":
        contact = _vn_contact(rng, city, domain)
    else:
        contact = _ru_contact(rng, city, domain, cyrillic=text_lang == "ru")

    own = _OWN_LANGUAGE[country]
    business_languages = [own]
    if text_lang == "en" or rng.random() < 0.7:
        business_languages.append("en")
    if rng.random() < (0.15 if country == "VN" else 0.03):
        business_languages.append(_OTHER_LANGUAGE[country])

    activity_code = rng.choice(role.codes)
    if rng.random() < EMPTY_SECTORS_SHARE:
        sectors: list[str] = []
    elif rng.random() < 0.7:
        sectors = list(role.sectors)
    else:
        sectors = [activity_code[:2]]

    filler = _Filler(rng, vocab_lang, role.words, getattr(city, vocab_lang))
    listings = _listings(rng, role, "offer", filler, text_lang) + _listings(rng, role, "need", filler, text_lang)

    return Profile(
        external_id=f"gen-{country.lower()}-{index:06d}",
        name=name,
        country=country,
        city=city.en,
        activity_code=activity_code,
        sectors=sectors,
        size=rng.choices(_SIZES, _SIZE_WEIGHTS)[0],
        founded=rng.randint(1990, 2024),
        languages=business_languages,
        website=f"https://{domain}",
        contact_name=contact[0],
        contact_email=contact[1],
        contact_phone=contact[2],
        listings=listings,
        text_language="vi" if text_lang == "mix" else text_lang,
        role=role.key,
    )


def generate_profiles(n: int, seed: int) -> Iterator[Profile]:
    """Yield ``n`` synthetic firms, alternately Vietnamese (odd index) and Russian (even index)."""
    rng = random.Random(seed)
    for index in range(1, n + 1):
        yield _profile(rng, index, "VN" if index % 2 else "RU")
