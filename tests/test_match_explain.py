import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from matchmaking.explain import LazySectorNames, explain
from matchmaking.models import Match

pytestmark = pytest.mark.django_db

OFFER = "Экспресс-тесты «ПЦР-Экспресс» для диагностики"
NEED = "Nhà phân phối thiết bị y tế tại Hà Nội"


def match_with(*reasons: dict) -> Match:
    return Match(reasons=list(reasons))  # explain reads only the stored reasons


NEED_MET = {
    "kind": "need_met",
    "data": {"need": NEED, "offer": OFFER, "need_ref": 1, "offer_ref": 2, "similarity": 0.8},
}


def test_each_reader_reads_from_their_own_side():
    match = match_with(NEED_MET, {**NEED_MET, "kind": "offer_wanted"})
    assert explain(match, "vn") == [
        f"Their offer “{OFFER}” meets your need “{NEED}”.",
        f"Your offer “{OFFER}” meets their need “{NEED}”.",
    ]
    assert explain(match, "ru") == [
        f"Your offer “{OFFER}” meets their need “{NEED}”.",
        f"Their offer “{OFFER}” meets your need “{NEED}”.",
    ]
    assert explain(match, "staff") == [
        f"The Russian firm’s offer “{OFFER}” meets the Vietnamese firm’s need “{NEED}”.",
        f"The Vietnamese firm’s offer “{OFFER}” meets the Russian firm’s need “{NEED}”.",
    ]


def test_quoted_texts_stay_as_written_in_every_language():
    for language in ["ru", "vi"]:
        with translation.override(language):
            sentence = explain(match_with(NEED_MET), "vn")[0]
        assert OFFER in sentence and NEED in sentence


def test_sector_names_follow_the_active_language_and_come_in_one_query():
    match = match_with({"kind": "sectors", "data": {"common": ["10", "21"]}})
    with translation.override("vi"), CaptureQueriesContext(connection) as ctx:
        sentence = explain(match, "vn")[0]
    assert len(ctx.captured_queries) == 1
    assert (
        sentence == "Hai doanh nghiệp cùng hoạt động trong 2 ngành: “Sản xuất, chế biến thực phẩm”, "
        "“Sản xuất thuốc, hoá dược và dược liệu”."
    )
    with translation.override("en"):
        assert explain(match_with({"kind": "sectors", "data": {"common": ["10"]}}), "ru") == [
            "Both firms work in the sector “Manufacture of food products”."
        ]


def test_russian_plurals_follow_the_count():
    divisions = [
        "01",
        "02",
        "03",
        "05",
        "06",
        "07",
        "08",
        "09",
        "10",
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "18",
        "19",
        "20",
        "21",
        "22",
    ]
    names = LazySectorNames()
    with translation.override("ru"):
        one = explain(match_with({"kind": "sectors", "data": {"common": divisions[:1]}}), "ru", sector_names=names)[0]
        three = explain(match_with({"kind": "sectors", "data": {"common": divisions[:3]}}), "ru", sector_names=names)[0]
        many = explain(match_with({"kind": "sectors", "data": {"common": divisions}}), "ru", sector_names=names)[0]
        forms = explain(match_with({"kind": "cooperation", "data": {"common": ["licensing"]}}), "ru")[0]
    assert one.startswith("Обе фирмы работают в 1 отрасли: «Растениеводство")
    assert three.startswith("Обе фирмы работают в 3 отраслях: ")
    assert many.startswith("Обе фирмы работают в 21 отрасли: ")
    assert forms == "Обе фирмы заинтересованы в такой форме сотрудничества: лицензирование."


def test_labels_and_unknown_values():
    match = match_with(
        {"kind": "cooperation", "data": {"common": ["joint_venture", "technology_transfer"]}},
        {"kind": "language", "data": {"common": ["en", "ru"]}},
        {"kind": "supply_chain", "data": {"common": ["10"]}},  # a kind this version does not explain
        {"kind": "sectors", "data": {"common": ["00"]}},  # no such division: shown by its code
    )
    assert explain(match, "staff") == [
        "Both firms want these forms of cooperation: Joint venture, Technology transfer.",
        "Business languages in common: English, Russian.",
        "Both firms work in the sector “00”.",
    ]
    with translation.override("vi"):
        assert explain(match, "vn")[:2] == [
            "Hai doanh nghiệp cùng quan tâm đến hình thức hợp tác: liên doanh, chuyển giao công nghệ.",
            "Ngôn ngữ giao dịch chung của hai doanh nghiệp: tiếng Anh, tiếng Nga.",
        ]


def test_no_reasons_no_sentences_and_no_query():
    with CaptureQueriesContext(connection) as ctx:
        assert explain(match_with(), "vn") == []
    assert not ctx.captured_queries


def test_an_unknown_side_is_refused():
    with pytest.raises(ValueError):
        explain(match_with(NEED_MET), "en")
