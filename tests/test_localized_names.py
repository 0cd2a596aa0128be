"""Chambers and the other organisations are named in the reader's language, falling back to their English name."""

import pytest
from django.urls import reverse
from django.utils import translation

from companies.models import Organisation
from events.models import Event
from seeds.loader import load_seeds
from seeds.models import ArticleEvent
from tests.factories import ChamberFactory, CompanyFactory
from tests.test_pages_public import page_text

pytestmark = pytest.mark.django_db

VCCI = {
    "en": "Vietnam Chamber of Commerce and Industry (VCCI)",
    "vi": "Phòng Thương mại và Công nghiệp Việt Nam (VCCI)",
    "ru": "Торгово-промышленная палата Вьетнама (ТПП Вьетнама)",
}


def test_seeded_organisations_have_official_names_in_vietnamese_and_russian():
    load_seeds()
    vcci = Organisation.objects.get(slug="vcci")
    for language, name in VCCI.items():
        with translation.override(language):
            assert str(vcci) == vcci.localized_name == name
    with translation.override("ru"):
        assert str(Organisation.objects.get(slug="delovaya-rossiya")) == "Деловая Россия"
    assert not Organisation.objects.filter(name_vi="").exists()
    assert not Organisation.objects.filter(name_ru="").exists()


def test_an_organisation_without_a_translation_keeps_its_english_name():
    chamber = ChamberFactory(name="Da Nang Business Club")
    with translation.override("ru"):
        assert str(chamber) == "Da Nang Business Club"


def test_directory_company_page_names_the_chamber_in_the_readers_language(client):
    chamber = ChamberFactory(slug="vcci", name=VCCI["en"], name_vi=VCCI["vi"], name_ru=VCCI["ru"])
    company = CompanyFactory(chamber=chamber)
    url = reverse("directory-company", args=[company.pk])
    for language in ("vi", "ru"):
        text = page_text(client.get(url, HTTP_ACCEPT_LANGUAGE=language))
        assert VCCI[language] in text and VCCI["en"] not in text


def test_profile_form_offers_chambers_by_their_name_in_the_readers_language(member_client):
    ChamberFactory(slug="vcci", name=VCCI["en"], name_vi=VCCI["vi"], name_ru=VCCI["ru"])
    body = member_client.get(reverse("my-profile"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert VCCI["vi"] in body and VCCI["en"] not in body


def test_article_events_are_named_in_the_readers_language():
    load_seeds()
    hanoi = ArticleEvent.objects.get(slug="hanoi-business-meeting-2014")
    with translation.override("vi"):
        assert str(hanoi) == "Cuộc gặp doanh nghiệp Việt Nam – Nga tại Hà Nội"
    with translation.override("en"):
        assert str(hanoi) == "Vietnam–Russia business meeting in Hanoi"


def test_past_b2b_events_from_the_articles_are_named_in_the_readers_language():
    load_seeds()
    moscow = Event.objects.get(slug="moscow-sme-meeting-2019")
    with translation.override("ru"):
        assert moscow.local_name == "Встреча малых и средних предприятий Вьетнама и России в Москве"
