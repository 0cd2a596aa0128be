import pytest

from companies.classification import ActivityCodeError, division_of
from companies.languages import detect_language


@pytest.mark.parametrize(
    ("code", "country", "division"),
    [
        ("2100", "VN", "21"),
        ("01", "VN", "01"),
        ("46493", "VN", "46"),
        ("21.20", "RU", "21"),
        ("62", "RU", "62"),
        ("46.90.1", "RU", "46"),
        ("01.11.11", "RU", "01"),
    ],
)
def test_registration_codes_map_to_their_isic_division(code, country, division):
    assert division_of(code, country) == division


@pytest.mark.parametrize(
    ("code", "country", "says"),
    [
        ("21.20", "VN", "VSIC 2018"),  # an OKVED code given for a Vietnamese firm
        ("2100", "RU", "OKVED2"),  # a VSIC code given for a Russian firm
        ("210000", "VN", "VSIC 2018"),
        ("21.2.3.4", "RU", "OKVED2"),
        ("4000", "VN", "not an ISIC Rev.4 division"),  # 40 is unused in ISIC Rev.4
        ("00.10", "RU", "not an ISIC Rev.4 division"),
        ("21a0", "VN", "VSIC 2018"),
    ],
)
def test_wrong_codes_are_refused_with_the_expected_format(code, country, says):
    with pytest.raises(ActivityCodeError, match=says):
        division_of(code, country)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Cần nhà phân phối thiết bị y tế tại Nga", "vi"),
        ("Ищем дистрибьютора экспресс-тестов во Вьетнаме", "ru"),
        ("We export robusta coffee from Dak Lak", "en"),
        ("Xuất khẩu cà phê robusta, cần partner distribution tại Moscow", "vi"),
        ("Поставки оборудования ABB и Siemens", "ru"),
        ("Branch office in Hà Nội", "en"),  # one Vietnamese place name does not make a Vietnamese text
    ],
)
def test_language_of_a_text_is_detected_from_its_script(text, language):
    assert detect_language(text) == language
