"""Deterministic synthetic company profiles for load tests and matching experiments.

Each firm plays one of a set of roles per sector (a Vietnamese coffee exporter, a Russian coffee roaster,
...). The roles of the two countries are written to complement each other, so a matcher has real signal
to find: what a Vietnamese role needs, some Russian role offers, and the other way round.

Only ``random.Random(seed)`` draws values, and profile ``i`` depends only on the draws before it, so
``generate_profiles(n, seed)`` is a prefix of ``generate_profiles(m, seed)`` for ``m > n``.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Union

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


# --- places ------------------------------------------------------------------------------------


class _City(NamedTuple):
    en: str
    vi: str
    ru: str
    area: str  # telephone area code


_VN_CITIES = {
    c.en: c
    for c in (
        _City("Hanoi", "Hà Nội", "Ханой", "24"),
        _City("Ho Chi Minh City", "TP. Hồ Chí Minh", "Хошимин", "28"),
        _City("Da Nang", "Đà Nẵng", "Дананг", "236"),
        _City("Hai Phong", "Hải Phòng", "Хайфон", "225"),
        _City("Can Tho", "Cần Thơ", "Кантхо", "292"),
        _City("Bac Ninh", "Bắc Ninh", "Бакнинь", "222"),
        _City("Binh Duong", "Bình Dương", "Биньзыонг", "274"),
        _City("Dong Nai", "Đồng Nai", "Донгнай", "251"),
        _City("Nha Trang", "Nha Trang", "Нячанг", "258"),
        _City("Buon Ma Thuot", "Buôn Ma Thuột", "Буонматхуот", "262"),
        _City("Da Lat", "Đà Lạt", "Далат", "263"),
        _City("Ha Long", "Hạ Long", "Халонг", "203"),
        _City("Cam Pha", "Cẩm Phả", "Камфа", "203"),
        _City("Vung Tau", "Vũng Tàu", "Вунгтау", "254"),
        _City("Hue", "Huế", "Хюэ", "234"),
        _City("Ca Mau", "Cà Mau", "Камау", "290"),
        _City("Thai Nguyen", "Thái Nguyên", "Тхайнгуен", "208"),
        _City("Nam Dinh", "Nam Định", "Намдинь", "228"),
        _City("Phan Rang", "Phan Rang", "Фанранг", "259"),
        _City("Phan Thiet", "Phan Thiết", "Фантьет", "252"),
        _City("My Tho", "Mỹ Tho", "Митхо", "273"),
        _City("Long Xuyen", "Long Xuyên", "Лонгсюен", "296"),
        _City("Lao Cai", "Lào Cai", "Лаокай", "214"),
        _City("Hung Yen", "Hưng Yên", "Хынгйен", "221"),
    )
}

_RU_CITIES = {
    c.en: c
    for c in (
        _City("Moscow", "Moskva", "Москва", "495"),
        _City("Saint Petersburg", "Saint Petersburg", "Санкт-Петербург", "812"),
        _City("Novosibirsk", "Novosibirsk", "Новосибирск", "383"),
        _City("Kazan", "Kazan", "Казань", "843"),
        _City("Vladivostok", "Vladivostok", "Владивосток", "423"),
        _City("Yekaterinburg", "Yekaterinburg", "Екатеринбург", "343"),
        _City("Nizhny Novgorod", "Nizhny Novgorod", "Нижний Новгород", "831"),
        _City("Tomsk", "Tomsk", "Томск", "3822"),
        _City("Samara", "Samara", "Самара", "846"),
        _City("Kemerovo", "Kemerovo", "Кемерово", "3842"),
        _City("Novokuznetsk", "Novokuznetsk", "Новокузнецк", "3843"),
        _City("Krasnoyarsk", "Krasnoyarsk", "Красноярск", "391"),
        _City("Rostov-on-Don", "Rostov na Donu", "Ростов-на-Дону", "863"),
        _City("Perm", "Perm", "Пермь", "342"),
        _City("Kaliningrad", "Kaliningrad", "Калининград", "4012"),
        _City("Naberezhnye Chelny", "Naberezhnye Chelny", "Набережные Челны", "8552"),
        _City("Togliatti", "Togliatti", "Тольятти", "8482"),
        _City("Tyumen", "Tyumen", "Тюмень", "3452"),
        _City("Ufa", "Ufa", "Уфа", "347"),
        _City("Veliky Novgorod", "Veliky Novgorod", "Великий Новгород", "8162"),
        _City("Krasnodar", "Krasnodar", "Краснодар", "861"),
        _City("Voronezh", "Voronezh", "Воронеж", "473"),
        _City("Murmansk", "Murmansk", "Мурманск", "8152"),
        _City("Petropavlovsk-Kamchatsky", "Petropavlovsk-Kamchatsky", "Петропавловск-Камчатский", "4152"),
        _City("Yuzhno-Sakhalinsk", "Yuzhno-Sakhalinsk", "Южно-Сахалинск", "4242"),
        _City("Ivanovo", "Ivanovo", "Иваново", "4932"),
        _City("Khabarovsk", "Khabarovsk", "Хабаровск", "4212"),
        _City("Cheboksary", "Cheboksary", "Чебоксары", "8352"),
        _City("Barnaul", "Barnaul", "Барнаул", "3852"),
        _City("Yaroslavl", "Yaroslavl", "Ярославль", "4852"),
    )
}

_CITIES = {"VN": _VN_CITIES, "RU": _RU_CITIES}
_MAIN_CITIES = {
    "VN": ("Hanoi", "Ho Chi Minh City", "Da Nang", "Hai Phong", "Can Tho"),
    "RU": ("Moscow", "Saint Petersburg", "Novosibirsk", "Kazan", "Vladivostok", "Yekaterinburg"),
}


def _names(cities: Mapping[str, _City], keys: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {lang: tuple(getattr(cities[key], lang) for key in keys) for lang in ("vi", "en", "ru")}


# --- vocabulary --------------------------------------------------------------------------------

# A placeholder's vocabulary: the same words in every language, words per language, or a number range.
Vocab = Union[tuple[str, ...], Mapping[str, tuple[str, ...]], range]

_COMMON_WORDS: dict[str, Vocab] = {
    "ru_city": _names(
        _RU_CITIES, ("Moscow", "Saint Petersburg", "Novosibirsk", "Yekaterinburg", "Kazan", "Vladivostok")
    ),
    "inland_city": _names(_RU_CITIES, ("Moscow", "Novosibirsk", "Yekaterinburg", "Kazan", "Saint Petersburg")),
    "vn_city": _names(_VN_CITIES, ("Hanoi", "Ho Chi Minh City", "Da Nang", "Hai Phong", "Can Tho")),
    "port_vn": {
        "vi": ("Hải Phòng", "Cái Mép", "Đà Nẵng", "Cát Lái"),
        "en": ("Hai Phong", "Cai Mep", "Da Nang", "Cat Lai"),
        "ru": ("Хайфон", "Дананг", "Хошимин"),
    },
    "port_ru": {
        "vi": ("Vladivostok", "Nakhodka", "Saint Petersburg", "Novorossiysk"),
        "en": ("Vladivostok", "Nakhodka", "Vostochny", "Saint Petersburg", "Novorossiysk", "Ust-Luga"),
        "ru": ("Владивосток", "Находка", "Восточный", "Санкт-Петербург", "Новороссийск", "Усть-Луга"),
    },
    "region_s": {
        "vi": ("Đồng bằng sông Cửu Long", "Tây Nguyên", "Đông Nam Bộ"),
        "en": ("the Mekong Delta", "the Central Highlands", "the South East"),
    },
    "region_v": {
        "vi": ("miền Bắc", "miền Nam", "miền Trung", "Tây Nguyên"),
        "en": ("northern Vietnam", "southern Vietnam", "central Vietnam", "the Central Highlands"),
    },
    "stack": ("Java", "Python", ".NET", "React Native", "Flutter", "Go", "SAP ABAP", "1C"),
    "hp": ("50–80", "80–120", "120–180"),
    # Russian counted nouns agree with the numeral's last digit; every range used before a Russian
    # noun steps so that its numbers all take the genitive plural (5, 10, 50...).
    "years": range(5, 21),
    "stores": range(20, 801, 10),
    "moq": range(1000, 10001, 500),
    "containers": range(2, 21),
    "wh": range(5000, 80001, 5000),
    "cold": range(500, 10001, 500),
    "qty_small": range(100, 3001, 100),
    "kt": range(100, 3001, 100),
    "mt": range(1, 8),
    "countries": range(5, 41, 5),
    "clients": range(50, 3001, 50),
    "trainees": range(200, 5001, 100),
    "units_small": range(100, 3001, 50),
    "fert_qty": range(5000, 100001, 5000),
}

# Appended to some Vietnamese texts: many Vietnamese exporters write in Vietnamese with English phrases.
_MIX_TAILS = {
    "offer": (
        "Capacity and price list on request.",
        "OEM/ODM orders welcome.",
        "English-speaking sales team, fast quotation.",
        "Samples available within 7 days.",
    ),
    "need": (
        "Long-term partnership preferred.",
        "Please send your catalogue and price list.",
        "Contact our export team for details.",
    ),
}

# --- roles -------------------------------------------------------------------------------------


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


def _texts(**by_language: str | tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {lang: (value,) if isinstance(value, str) else value for lang, value in by_language.items()}


VN_ROLES: tuple[_Role, ...] = (
    # agriculture: coffee, tea, fruit, farming inputs
    _Role(
        "vn-coffee-exporter",
        "VN",
        ("01", "10"),
        ("0126", "1077"),
        (("Cà phê", "Coffee"), ("Nông sản", "Agro"), ("Xuất nhập khẩu Cà phê", "Coffee Export")),
        offers=_texts(
            vi=(
                "Xuất khẩu {coffee} và {coffee2} từ vùng nguyên liệu {area} ha tại {region}, sản lượng {qty} tấn mỗi năm; có chứng nhận {cert}.",
                "Nhà máy rang xay tại {city} công suất {qty_small} tấn/năm, nhận gia công {coffee} theo thương hiệu riêng (OEM), đóng gói túi van một chiều và hộp giấy.",
            ),
            en=(
                "We export {coffee} and {coffee2} grown on {area} ha in {region}, {qty} t a year, {cert} certified.",
                "Roasting plant in {city} with {qty_small} t a year of capacity; private-label {coffee} in valve bags and capsules.",
            ),
        ),
        needs=_texts(
            vi=(
                "Cần nhà nhập khẩu và nhà phân phối cà phê tại Nga, đặc biệt ở {ru_city} và {ru_city2}, ký hợp đồng dài hạn từ {containers} container mỗi tháng.",
                "Tìm đối tác phân phối cà phê rang xay vào chuỗi siêu thị và kênh HoReCa tại Nga; sẵn sàng làm hàng nhãn riêng.",
            ),
            en=(
                "Importers and distributors of coffee in Russia, especially in {ru_city} and {ru_city2}, for long-term contracts from {containers} containers a month.",
                "Partners to place our roasted coffee in Russian supermarket chains and HoReCa; private label possible.",
            ),
        ),
        offer_coop=("supply", "distribution"),
        need_coop=("distribution", "supply"),
        cities=("Buon Ma Thuot", "Da Lat", "Ho Chi Minh City"),
        words={
            "coffee": {
                "vi": (
                    "cà phê nhân Robusta",
                    "cà phê Arabica Cầu Đất",
                    "cà phê rang xay",
                    "cà phê hòa tan 3 trong 1",
                    "cà phê Robusta chế biến ướt",
                ),
                "en": (
                    "green Robusta beans",
                    "Arabica from Cau Dat",
                    "roasted and ground coffee",
                    "3-in-1 instant coffee",
                    "wet-processed Robusta",
                ),
            },
            "region": {
                "vi": ("Đắk Lắk", "Lâm Đồng", "Gia Lai", "Đắk Nông"),
                "en": ("Dak Lak", "Lam Dong", "Gia Lai", "Dak Nong"),
            },
            "cert": ("Rainforest Alliance", "4C", "Organic EU", "Fairtrade"),
            "area": range(50, 2001, 50),
            "qty": range(500, 20001, 500),
        },
    ),
    _Role(
        "vn-tea-producer",
        "VN",
        ("01", "10"),
        ("0127", "1076"),
        (("Chè", "Tea"), ("Trà", "Tea Export"), ("Nông sản", "Agri")),
        offers=_texts(
            vi=(
                "Sản xuất và xuất khẩu {tea} và {tea2}; vùng chè {area} ha đạt chuẩn {cert}, sản lượng {qty_small} tấn chè khô mỗi năm.",
                "Cung cấp trà túi lọc và trà hòa tan theo đơn OEM, đóng gói tại nhà máy ở {city}.",
            ),
            en=(
                "We grow and export {tea} and {tea2} from {area} ha of {cert} gardens; {qty_small} t of dry tea a year.",
                "Tea bags and instant tea made to OEM orders and packed at our plant in {city}.",
            ),
        ),
        needs=_texts(
            vi="Cần nhà nhập khẩu và công ty đóng gói trà tại Nga mua {tea} theo lô lớn hoặc đóng gói theo nhãn riêng.",
            en="Tea packers and importers in Russia to buy {tea} in bulk or under their own brand.",
        ),
        offer_coop=("supply", "manufacturing"),
        need_coop=("distribution", "supply"),
        cities=("Thai Nguyen", "Da Lat", "Hanoi"),
        words={
            "tea": {
                "vi": (
                    "chè xanh Thái Nguyên",
                    "trà Ô long Lâm Đồng",
                    "chè đen CTC",
                    "trà Shan tuyết cổ thụ",
                    "trà sen",
                ),
                "en": (
                    "Thai Nguyen green tea",
                    "Lam Dong oolong",
                    "CTC black tea",
                    "ancient Shan Tuyet tea",
                    "lotus tea",
                ),
            },
            "cert": ("VietGAP", "Organic USDA", "Rainforest Alliance"),
            "area": range(20, 801, 10),
        },
    ),
    _Role(
        "vn-fruit-exporter",
        "VN",
        ("01", "10"),
        ("0121", "1030"),
        (("Trái cây", "Fruit"), ("Rau quả", "Fresh Produce"), ("Nông sản Xuất khẩu", "Agri Export")),
        offers=_texts(
            vi="Cung cấp {fruit} và {fruit2} tươi, đông lạnh IQF và sấy dẻo; kho lạnh {cold} tấn tại {city}, đạt chuẩn GlobalGAP, xuất khẩu quanh năm.",
            en="Fresh, IQF-frozen and dried {fruit} and {fruit2}; {cold} t of cold storage in {city}, GlobalGAP certified, available all year round.",
        ),
        needs=_texts(
            vi="Tìm nhà nhập khẩu trái cây tại Nga và đối tác logistics lạnh bằng đường biển hoặc đường sắt đến {ru_city}.",
            en="Fruit importers in Russia and a reefer logistics partner by sea or rail to {ru_city}.",
        ),
        offer_coop=("supply",),
        need_coop=("distribution", "supply"),
        cities=("Can Tho", "My Tho", "Phan Thiet", "Ho Chi Minh City"),
        words={
            "fruit": {
                "vi": (
                    "thanh long",
                    "sầu riêng",
                    "xoài cát Hòa Lộc",
                    "chanh leo",
                    "bưởi da xanh",
                    "chuối",
                    "vải thiều",
                    "mít",
                ),
                "en": (
                    "dragon fruit",
                    "durian",
                    "Hoa Loc mango",
                    "passion fruit",
                    "green-skin pomelo",
                    "bananas",
                    "lychee",
                    "jackfruit",
                ),
            },
        },
    ),
    _Role(
        "vn-farm-network",
        "VN",
        ("01",),
        ("0111", "0128"),
        (("Nông nghiệp", "Agriculture"), ("Nông nghiệp Công nghệ cao", "Agritech")),
        offers=_texts(
            vi="Liên kết {farmers} hộ nông dân canh tác {area} ha {crop} tại {region_s}; cung cấp {crop2} đạt chuẩn VietGAP cho nhà máy chế biến và doanh nghiệp xuất khẩu.",
            en="A network of {farmers} farming households growing {crop} on {area} ha in {region_s}; we supply VietGAP {crop2} to processors and exporters.",
        ),
        needs=_texts(
            vi="Cần nguồn phân kali, phân NPK và urê nhập khẩu trực tiếp với giá ổn định, khoảng {fert_qty} tấn mỗi vụ; quan tâm giống {seed} năng suất cao.",
            en="Potash, NPK and urea imported directly at stable prices, about {fert_qty} t a season; we are also interested in high-yield {seed} seeds.",
        ),
        need_kind="product",
        offer_coop=("supply",),
        need_coop=("supply",),
        cities=("Can Tho", "Long Xuyen", "Buon Ma Thuot"),
        words={
            "crop": {
                "vi": ("lúa gạo", "hồ tiêu", "hạt điều", "quế", "rau màu", "sầu riêng"),
                "en": ("rice", "black pepper", "cashew nuts", "cinnamon", "vegetables", "durian"),
            },
            "seed": {
                "vi": ("ngô lai", "đậu tương", "hướng dương", "lúa mì"),
                "en": ("hybrid maize", "soybean", "sunflower", "wheat"),
            },
            "farmers": range(200, 5001, 50),
            "area": range(100, 5001, 100),
        },
    ),
    _Role(
        "vn-bio-pesticides",
        "VN",
        ("20",),
        ("2021", "2012"),
        (("Thuốc Bảo vệ Thực vật", "Crop Care"), ("Phân bón", "Agrochem"), ("Nông dược", "BioAgro")),
        offers=_texts(
            vi="Sản xuất thuốc trừ sâu sinh học và phân bón hữu cơ vi sinh từ {microbe}, công suất {qty_small} tấn/năm, đã đăng ký sử dụng cho lúa, cà phê và rau.",
            en="Bio-pesticides and microbial organic fertilisers based on {microbe}, {qty_small} t a year, registered for rice, coffee and vegetables.",
        ),
        needs=_texts(
            vi="Tìm nhà phân phối vật tư nông nghiệp tại Nga và các nước SNG; cần nhà cung cấp nguyên liệu kali và lưu huỳnh.",
            en="Agri-input distributors in Russia and the CIS for our bio-products, and suppliers of potash and sulphur as raw materials.",
        ),
        offer_coop=("supply", "distribution"),
        need_coop=("distribution", "supply"),
        cities=("Binh Duong", "Dong Nai", "Can Tho", "Hanoi"),
        words={"microbe": ("Trichoderma", "Bacillus thuringiensis", "Beauveria", "Metarhizium")},
    ),
    # seafood
    _Role(
        "vn-seafood-processor",
        "VN",
        ("10", "03"),
        ("1020", "0322"),
        (("Thủy sản", "Seafood"), ("Chế biến Thủy sản", "Seafoods"), ("Hải sản", "Aqua")),
        offers=_texts(
            vi=(
                "Nhà máy chế biến {fish} và {fish2} đông lạnh đạt HACCP, BRC, có mã số xuất khẩu vào Liên minh Kinh tế Á – Âu; công suất {fish_qty} tấn nguyên liệu mỗi ngày.",
                "Nhận gia công tái xuất cá thịt trắng: phi lê, cắt khúc, tẩm bột theo đơn đặt hàng.",
            ),
            en=(
                "HACCP and BRC certified plant processing frozen {fish} and {fish2}, approved for export to the EAEU; {fish_qty} t of raw material a day.",
                "Toll processing of whitefish for re-export: fillets, portions and breaded products to order.",
            ),
        ),
        needs=_texts(
            vi="Cần nguồn cá minh thái, cá tuyết và cá trích đông lạnh nguyên con từ Nga để chế biến tái xuất; tìm nhà nhập khẩu {fish} tại {ru_city}.",
            en="Frozen whole pollock, cod and herring from Russia for reprocessing, and importers of {fish} in {ru_city}.",
        ),
        need_kind="product",
        offer_coop=("supply", "manufacturing"),
        need_coop=("supply", "distribution"),
        cities=("Can Tho", "Ca Mau", "Nha Trang", "Hai Phong"),
        words={
            "fish": {
                "vi": ("cá tra phi lê", "tôm thẻ chân trắng", "tôm sú", "cá ngừ", "mực ống", "chả cá surimi"),
                "en": ("pangasius fillets", "whiteleg shrimp", "black tiger shrimp", "tuna loins", "squid", "surimi"),
            },
            "fish_qty": range(20, 201, 10),
        },
    ),
    # pharmaceuticals, medicinal plants, biotech
    _Role(
        "vn-medicinal-plants",
        "VN",
        ("21", "01"),
        ("2100", "0128"),
        (("Dược liệu", "Botanicals"), ("Dược phẩm Thảo dược", "Herbal Pharma")),
        offers=_texts(
            vi="Trồng và chế biến dược liệu theo chuẩn GACP-WHO: {herb}, {herb2}, {herb3}; cung cấp dược liệu khô và cao chiết khoảng {qty_small} tấn mỗi năm, có phiếu kiểm nghiệm cho từng lô.",
            en="GACP-WHO grown {herb}, {herb2} and {herb3}: dried herbs and extracts, about {qty_small} t a year with a certificate of analysis for every lot.",
        ),
        needs=_texts(
            vi="Cần chuyển giao công nghệ chiết xuất CO2 siêu tới hạn và sấy lạnh; tìm nhà máy dược tại Nga bao tiêu nguyên liệu dược liệu.",
            en="Transfer of supercritical CO2 extraction and freeze-drying technology, and pharmaceutical plants in Russia to take our herbal raw materials.",
        ),
        need_kind="technology",
        offer_coop=("supply",),
        need_coop=("technology_transfer", "supply"),
        cities=("Hanoi", "Lao Cai", "Da Lat", "Ho Chi Minh City"),
        words={
            "herb": {
                "vi": ("actiso", "đương quy", "sâm Ngọc Linh", "giảo cổ lam", "nghệ", "quế", "hồi", "đinh lăng"),
                "en": (
                    "artichoke",
                    "Angelica",
                    "Ngoc Linh ginseng",
                    "Gynostemma",
                    "turmeric",
                    "cinnamon",
                    "star anise",
                    "Polyscias",
                ),
            },
        },
    ),
    _Role(
        "vn-pharma-manufacturer",
        "VN",
        ("21",),
        ("2100",),
        (("Dược phẩm", "Pharma"), ("Dược", "Pharmaceutical")),
        offers=_texts(
            vi="Nhà máy đạt chuẩn EU-GMP sản xuất {drug} và {drug2} dạng viên nén, viên nang, {units} triệu đơn vị mỗi năm; nhận gia công theo hợp đồng.",
            en="EU-GMP plant making {drug} and {drug2} as tablets and capsules, {units} million units a year; contract manufacturing available.",
        ),
        needs=_texts(
            vi="Cần nhà cung cấp hoạt chất (API) và tá dược ổn định; quan tâm nhận chuyển giao công nghệ hoặc nhượng quyền sản xuất thuốc của Nga, đặc biệt là {drug}.",
            en="Reliable suppliers of APIs and excipients; we would license or take a technology transfer of Russian medicines, especially {drug}.",
        ),
        need_kind="technology",
        offer_coop=("manufacturing", "supply"),
        need_coop=("licensing", "technology_transfer", "supply"),
        cities=("Hanoi", "Ho Chi Minh City", "Binh Duong", "Hai Phong"),
        words={
            "drug": {
                "vi": (
                    "thuốc kháng sinh",
                    "thuốc tim mạch",
                    "thuốc điều trị đái tháo đường",
                    "vitamin tổng hợp",
                    "thuốc đông dược",
                    "thuốc kháng virus",
                ),
                "en": (
                    "antibiotics",
                    "cardiovascular drugs",
                    "antidiabetic drugs",
                    "multivitamins",
                    "traditional herbal medicines",
                    "antivirals",
                ),
            },
            "units": range(100, 2001, 50),
        },
    ),
    _Role(
        "vn-biotech-lab",
        "VN",
        ("72", "21"),
        ("7210", "2100"),
        (("Công nghệ Sinh học", "Biotech"), ("Sinh học", "Life Sciences")),
        offers=_texts(
            vi="Phòng thí nghiệm đạt ISO 17025 với {staff} nhà khoa học, cung cấp dịch vụ {bio} và {bio2}; có kinh nghiệm thử nghiệm lâm sàng tại Việt Nam.",
            en="ISO 17025 laboratory with {staff} scientists offering {bio} and {bio2}; experience with clinical trials in Vietnam.",
        ),
        needs=_texts(
            vi="Tìm đối tác Nga hợp tác nghiên cứu và chuyển giao công nghệ sản xuất {dx} tại Việt Nam; cần thiết bị giải trình tự và sinh phẩm.",
            en="Russian partners for joint research and technology transfer to produce {dx} in Vietnam; we also need sequencers and reagents.",
        ),
        offer_kind="service",
        need_kind="technology",
        offer_coop=("research",),
        need_coop=("research", "technology_transfer"),
        cities=("Hanoi", "Ho Chi Minh City", "Da Nang"),
        words={
            "bio": {
                "vi": (
                    "giải trình tự gen",
                    "phát triển chế phẩm probiotic",
                    "sản xuất enzyme công nghiệp",
                    "nuôi cấy mô thực vật",
                    "phân tích vi sinh",
                ),
                "en": (
                    "gene sequencing",
                    "probiotic development",
                    "industrial enzyme production",
                    "plant tissue culture",
                    "microbiological testing",
                ),
            },
            "dx": {
                "vi": ("test chẩn đoán nhanh", "kít PCR", "vắc-xin thú y", "chế phẩm sinh học"),
                "en": ("rapid diagnostic tests", "PCR kits", "veterinary vaccines", "biologics"),
            },
            "staff": range(8, 121),
        },
    ),
    # healthcare
    _Role(
        "vn-hospital",
        "VN",
        ("86",),
        ("8610", "8620"),
        (("Bệnh viện Đa khoa", "Hospital"), ("Y tế", "Healthcare"), ("Phòng khám Đa khoa", "Medical")),
        offers=_texts(
            vi="Hệ thống {beds} giường bệnh và {clinics} phòng khám tại {city}, chuyên sâu về {spec} và {spec2}; tiếp nhận bệnh nhân nước ngoài, có phiên dịch tiếng Nga.",
            en="{beds} beds and {clinics} outpatient clinics in {city} specialising in {spec} and {spec2}; we receive foreign patients with Russian-speaking interpreters.",
        ),
        needs=_texts(
            vi="Cần nhà cung cấp {equip} và chương trình đào tạo bác sĩ, kỹ thuật viên tại Nga về {spec}.",
            en="Suppliers of {equip} and training for our doctors and technicians in Russia in {spec}.",
        ),
        offer_kind="service",
        need_kind="product",
        offer_coop=("training",),
        need_coop=("supply", "training"),
        cities=("Hanoi", "Ho Chi Minh City", "Da Nang", "Hai Phong", "Can Tho"),
        words={
            "spec": {
                "vi": (
                    "tim mạch",
                    "nhãn khoa",
                    "phục hồi chức năng",
                    "ung bướu",
                    "sản phụ khoa",
                    "chấn thương chỉnh hình",
                ),
                "en": ("cardiology", "ophthalmology", "rehabilitation", "oncology", "obstetrics", "orthopaedics"),
            },
            "equip": {
                "vi": (
                    "thiết bị chẩn đoán hình ảnh",
                    "laser nhãn khoa",
                    "máy X-quang kỹ thuật số",
                    "máy siêu âm",
                    "thiết bị vật lý trị liệu",
                ),
                "en": (
                    "diagnostic imaging",
                    "ophthalmic lasers",
                    "digital X-ray systems",
                    "ultrasound scanners",
                    "physiotherapy equipment",
                ),
            },
            "beds": range(50, 1501, 50),
            "clinics": range(2, 41),
        },
    ),
    _Role(
        "vn-medical-distributor",
        "VN",
        ("46", "32"),
        ("4649", "4659"),
        (("Thiết bị Y tế", "Medical Equipment"), ("Vật tư Y tế", "Medical Supplies")),
        offers=_texts(
            vi="Phân phối thiết bị và vật tư y tế cho {hospitals} bệnh viện ở {region_v}; có đội kỹ sư bảo trì và kinh nghiệm đăng ký lưu hành với Bộ Y tế.",
            en="We distribute medical equipment and consumables to {hospitals} hospitals in {region_v}, with service engineers and experience of registration with the Ministry of Health.",
        ),
        needs=_texts(
            vi="Tìm nhà sản xuất {device} và {device2} của Nga cần nhà phân phối độc quyền tại Việt Nam.",
            en="Russian manufacturers of {device} and {device2} looking for an exclusive distributor in Vietnam.",
        ),
        offer_kind="service",
        need_kind="product",
        offer_coop=("distribution",),
        need_coop=("distribution",),
        words={
            "device": {
                "vi": (
                    "test chẩn đoán nhanh",
                    "máy siêu âm",
                    "dụng cụ phẫu thuật",
                    "thiết bị nha khoa",
                    "máy thở",
                    "thiết bị phục hồi chức năng",
                ),
                "en": (
                    "rapid diagnostic tests",
                    "ultrasound scanners",
                    "surgical instruments",
                    "dental equipment",
                    "ventilators",
                    "rehabilitation equipment",
                ),
            },
            "hospitals": range(20, 401, 10),
        },
    ),
    _Role(
        "vn-medical-consumables",
        "VN",
        ("32",),
        ("3250",),
        (("Vật tư Y tế", "Medical"), ("Nhựa Y tế", "Medicare")),
        offers=_texts(
            vi="Sản xuất {cons} và {cons2} đạt ISO 13485 và CE, {mil} triệu sản phẩm mỗi năm; nhận sản xuất OEM.",
            en="ISO 13485 and CE certified maker of {cons} and {cons2}, {mil} million pieces a year; OEM orders welcome.",
        ),
        needs=_texts(
            vi="Cần nhà phân phối vật tư y tế tại Nga và hỗ trợ đăng ký với Roszdravnadzor; tìm nhà cung cấp hạt nhựa y tế.",
            en="Medical-supply distributors in Russia and help with Roszdravnadzor registration; suppliers of medical-grade polymers.",
        ),
        offer_coop=("supply", "manufacturing"),
        need_coop=("distribution", "supply"),
        cities=("Binh Duong", "Dong Nai", "Hanoi", "Bac Ninh"),
        words={
            "cons": {
                "vi": ("bơm kim tiêm", "găng tay y tế", "khẩu trang", "dây truyền dịch", "bông băng gạc"),
                "en": ("syringes", "medical gloves", "face masks", "infusion sets", "gauze and bandages"),
            },
            "mil": range(20, 901, 10),
        },
    ),
    # IT and software
    _Role(
        "vn-software-outsourcing",
        "VN",
        ("62",),
        ("6201", "6202"),
        (("Phần mềm", "Software"), ("Công nghệ", "Tech"), ("Giải pháp Công nghệ", "IT Solutions")),
        offers=_texts(
            vi="Đội ngũ {devs} kỹ sư phần mềm tại {city}, chuyên {stack} và {stack2}; nhận phát triển phần mềm theo yêu cầu, kiểm thử và bảo trì với chi phí cạnh tranh.",
            en="{devs} software engineers in {city} working in {stack} and {stack2}; custom development, testing and maintenance at competitive rates.",
        ),
        needs=_texts(
            vi="Tìm khách hàng và đối tác tại Nga cần thuê ngoài phát triển phần mềm; quan tâm hợp tác với hãng phần mềm Nga về {soft} để bản địa hóa và triển khai tại Việt Nam.",
            en="Clients and partners in Russia that outsource software development; Russian vendors of {soft} software that want localisation and a delivery partner.",
        ),
        offer_kind="service",
        offer_coop=("supply",),
        need_coop=("distribution", "licensing"),
        cities=("Hanoi", "Ho Chi Minh City", "Da Nang"),
        words={
            "soft": {
                "vi": ("ERP", "diệt virus", "an ninh mạng", "thiết kế CAD", "quản lý kho"),
                "en": ("ERP", "antivirus", "cybersecurity", "CAD", "warehouse management"),
            },
            "devs": range(30, 1501, 10),
        },
    ),
    _Role(
        "vn-systems-integrator",
        "VN",
        ("62", "63"),
        ("6202", "6311"),
        (("Tích hợp Hệ thống", "Systems"), ("Dữ liệu", "Data"), ("Tin học Viễn thông", "Telecom IT")),
        offers=_texts(
            vi="Tích hợp hệ thống và trung tâm dữ liệu cho ngân hàng, cơ quan nhà nước và doanh nghiệp; vận hành {racks} tủ rack tại {city}, đạt ISO 27001.",
            en="Systems integration and data-centre services for banks, government and enterprises; {racks} racks in {city}, ISO 27001 certified.",
        ),
        needs=_texts(
            vi="Cần hãng phần mềm Nga về {soft} và {soft2} cho phép bán lại, bản địa hóa và hỗ trợ kỹ thuật tại Việt Nam.",
            en="Russian vendors of {soft} and {soft2} software to resell, localise and support in Vietnam.",
        ),
        offer_kind="service",
        need_kind="technology",
        offer_coop=("supply",),
        need_coop=("distribution", "licensing"),
        cities=("Hanoi", "Ho Chi Minh City"),
        words={
            "soft": {
                "vi": ("ERP", "an ninh mạng", "diệt virus", "SIEM", "phân tích dữ liệu"),
                "en": ("ERP", "cybersecurity", "antivirus", "SIEM", "analytics"),
            },
            "racks": range(50, 2001, 50),
        },
    ),
    # oil and gas
    _Role(
        "vn-oilfield-services",
        "VN",
        ("09", "06"),
        ("0910", "0610"),
        (("Dịch vụ Dầu khí", "Petroleum Services"), ("Kỹ thuật Dầu khí", "Offshore")),
        offers=_texts(
            vi="Dịch vụ {oilsvc} và {oilsvc2} cho các mỏ ngoài khơi thềm lục địa phía Nam; {years} năm kinh nghiệm, đội tàu dịch vụ và căn cứ tại Vũng Tàu.",
            en="{oilsvc} and {oilsvc2} for offshore fields on the southern continental shelf; {years} years of experience, support vessels and a base in Vung Tau.",
        ),
        needs=_texts(
            vi="Cần nhà cung cấp {oileq} đạt chuẩn API và GOST, cùng công nghệ tăng cường thu hồi dầu cho các mỏ đang suy giảm sản lượng.",
            en="Suppliers of API and GOST {oileq}, and enhanced oil recovery technology for mature fields.",
        ),
        offer_kind="service",
        need_kind="product",
        offer_coop=("supply", "joint_venture"),
        need_coop=("supply", "technology_transfer"),
        cities=("Vung Tau", "Ho Chi Minh City", "Hanoi"),
        words={
            "oilsvc": {
                "vi": (
                    "khoan sửa giếng",
                    "bảo dưỡng giàn khai thác",
                    "khảo sát địa chấn",
                    "khảo sát ROV",
                    "kích thích vỉa",
                ),
                "en": (
                    "well workover",
                    "platform maintenance",
                    "seismic surveys",
                    "ROV inspection",
                    "well stimulation",
                ),
            },
            "oileq": {
                "vi": ("ống khoan", "thiết bị đầu giếng", "máy bơm ly tâm điện chìm", "van công nghiệp"),
                "en": ("drill pipes", "wellhead equipment", "electric submersible pumps", "industrial valves"),
            },
        },
    ),
    _Role(
        "vn-gas-distributor",
        "VN",
        ("35", "06"),
        ("3520",),
        (("Khí hóa lỏng", "LPG"), ("Gas", "Gas"), ("Năng lượng Dầu khí", "Petro Energy")),
        offers=_texts(
            vi="Mạng lưới phân phối LPG với {depots} kho và trạm chiết nạp ở {region_v}, cung cấp khí cho khu công nghiệp và hộ gia đình.",
            en="LPG distribution network with {depots} depots and filling stations in {region_v}, supplying industrial parks and households.",
        ),
        needs=_texts(
            vi="Tìm nhà cung cấp LPG và LNG từ Nga theo hợp đồng dài hạn, giao tại cảng {port_vn}; quan tâm hợp tác đầu tư kho cảng LNG.",
            en="Long-term LPG and LNG supply from Russia delivered to {port_vn}, and co-investors in an LNG terminal.",
        ),
        offer_kind="service",
        need_kind="product",
        offer_coop=("distribution",),
        need_coop=("supply", "investment"),
        cities=("Ho Chi Minh City", "Vung Tau", "Hai Phong"),
        words={"depots": range(5, 61)},
    ),
    # automotive and tractors
    _Role(
        "vn-vehicle-assembler",
        "VN",
        ("29",),
        ("2910", "2930"),
        (("Ô tô", "Auto"), ("Cơ khí Ô tô", "Motors"), ("Ô tô Chuyên dụng", "Automotive")),
        offers=_texts(
            vi="Nhà máy lắp ráp ô tô tại {city} công suất {cars} xe/năm, có dây chuyền hàn, sơn tĩnh điện và kiểm định; sẵn sàng lắp ráp SKD, CKD cho đối tác.",
            en="Vehicle assembly plant in {city} for {cars} units a year with welding, e-coating and testing lines; ready for SKD and CKD assembly for partners.",
        ),
        needs=_texts(
            vi="Cần đối tác Nga cung cấp bộ linh kiện {vehicle} và chuyển giao công nghệ để lắp ráp, phân phối tại Việt Nam và ASEAN.",
            en="Russian manufacturers to supply {vehicle} kits and technology for assembly and sales in Vietnam and ASEAN.",
        ),
        offer_kind="service",
        need_kind="technology",
        offer_coop=("manufacturing", "joint_venture"),
        need_coop=("technology_transfer", "joint_venture", "licensing"),
        cities=("Hai Phong", "Da Nang", "Hanoi", "Bac Ninh", "Ho Chi Minh City"),
        words={
            "vehicle": {
                "vi": ("xe tải nhẹ", "xe buýt", "xe tải hạng nặng", "xe chuyên dụng", "xe buýt điện"),
                "en": ("light truck", "bus", "heavy truck", "special-purpose vehicle", "electric bus"),
            },
            "cars": range(2000, 50001, 1000),
        },
    ),
    _Role(
        "vn-auto-parts",
        "VN",
        ("29",),
        ("2930",),
        (("Phụ tùng Ô tô", "Auto Parts"), ("Cơ khí Chính xác", "Precision"), ("Linh kiện", "Components")),
        offers=_texts(
            vi="Sản xuất {part} và {part2} cho các hãng ô tô, đạt chuẩn IATF 16949; công suất {parts} nghìn bộ mỗi năm.",
            en="IATF 16949 certified maker of {part} and {part2} for carmakers; {parts} thousand sets a year.",
        ),
        needs=_texts(
            vi="Tìm nhà sản xuất ô tô, xe tải của Nga cần nhà cung cấp linh kiện; sẵn sàng sản xuất theo bản vẽ của khách hàng.",
            en="Russian car and truck makers needing component suppliers; we manufacture to drawing.",
        ),
        offer_coop=("supply", "manufacturing"),
        need_coop=("supply",),
        cities=("Hai Phong", "Bac Ninh", "Dong Nai", "Binh Duong", "Hung Yen"),
        words={
            "part": {
                "vi": ("bó dây điện", "chi tiết cao su kỹ thuật", "ghế ô tô", "chi tiết dập", "đèn chiếu sáng"),
                "en": ("wire harnesses", "technical rubber parts", "car seats", "stamped parts", "lighting"),
            },
            "parts": range(50, 2001, 50),
        },
    ),
    _Role(
        "vn-farm-machinery-dealer",
        "VN",
        ("46", "28"),
        ("4653",),
        (("Máy Nông nghiệp", "Farm Equipment"), ("Nông cơ", "Agri Machinery")),
        offers=_texts(
            vi="Mạng lưới {dealers} đại lý và xưởng dịch vụ máy nông nghiệp tại {region_s}; bán khoảng {units_small} máy cày, máy gặt mỗi năm, có đội sửa chữa lưu động.",
            en="{dealers} dealers and service workshops for farm machinery in {region_s}; around {units_small} tractors and harvesters sold a year, with mobile repair teams.",
        ),
        needs=_texts(
            vi="Cần nhà sản xuất máy kéo {hp} mã lực và máy gặt đập liên hợp phù hợp ruộng lúa nước, có phụ tùng và bảo hành; sẵn sàng liên doanh lắp ráp.",
            en="Makers of {hp} hp tractors and combine harvesters suited to paddy fields, with spare parts and warranty; open to an assembly joint venture.",
        ),
        offer_kind="service",
        need_kind="product",
        offer_coop=("distribution",),
        need_coop=("distribution", "joint_venture"),
        cities=("Can Tho", "Long Xuyen", "Buon Ma Thuot", "Nam Dinh"),
        words={"dealers": range(5, 61)},
    ),
    # energy
    _Role(
        "vn-power-developer",
        "VN",
        ("35",),
        ("3511", "3512"),
        (("Năng lượng", "Energy"), ("Điện lực", "Power"), ("Năng lượng Tái tạo", "Renewables")),
        offers=_texts(
            vi="Phát triển và vận hành các dự án {plant} tổng công suất {mw} MW tại {region_e}; đã có đất, giấy phép và thỏa thuận đấu nối cho giai đoạn mở rộng.",
            en="We develop and operate {plant} with {mw} MW in {region_e}; land, permits and grid connection agreed for the next phase.",
        ),
        needs=_texts(
            vi="Cần nhà đầu tư và nhà cung cấp {powereq} từ Nga; quan tâm hiện đại hóa các tổ máy thủy điện cũ.",
            en="Investors and Russian suppliers of {powereq}; we also want to modernise ageing hydropower units.",
        ),
        offer_kind="partnership",
        need_kind="product",
        offer_coop=("investment", "joint_venture"),
        need_coop=("investment", "supply"),
        cities=("Hanoi", "Ho Chi Minh City", "Phan Rang", "Phan Thiet", "Da Nang"),
        words={
            "plant": {
                "vi": ("điện mặt trời", "điện gió trên bờ", "điện gió ngoài khơi", "thủy điện nhỏ", "điện sinh khối"),
                "en": (
                    "solar farms",
                    "onshore wind farms",
                    "offshore wind projects",
                    "small hydropower plants",
                    "biomass power plants",
                ),
            },
            "region_e": {
                "vi": ("Ninh Thuận", "Bình Thuận", "Tây Nguyên", "miền núi phía Bắc", "Đồng bằng sông Cửu Long"),
                "en": (
                    "Ninh Thuan",
                    "Binh Thuan",
                    "the Central Highlands",
                    "the northern mountains",
                    "the Mekong Delta",
                ),
            },
            "powereq": {
                "vi": ("tua-bin thủy điện", "máy biến áp", "tua-bin gió", "thiết bị đóng cắt cao áp"),
                "en": ("hydro turbines", "power transformers", "wind turbines", "high-voltage switchgear"),
            },
            "mw": range(20, 801, 10),
        },
    ),
    _Role(
        "vn-energy-training",
        "VN",
        ("85", "35"),
        ("8559", "8532"),
        (("Đào tạo Năng lượng", "Energy Academy"), ("Giáo dục Kỹ thuật", "Technical Training")),
        offers=_texts(
            vi="Trung tâm đào tạo kỹ sư và công nhân kỹ thuật ngành điện, {trainees} học viên mỗi năm; có phòng thí nghiệm và xưởng thực hành tại {city}.",
            en="Training centre for power engineers and technicians, {trainees} trainees a year, with laboratories and workshops in {city}.",
        ),
        needs=_texts(
            vi="Tìm trường đại học và trung tâm đào tạo của Nga để hợp tác đào tạo {field}, trao đổi giảng viên và cấp học bổng cho sinh viên Việt Nam.",
            en="Russian universities and training centres to partner in {field} training, faculty exchanges and scholarships for Vietnamese students.",
        ),
        offer_kind="service",
        offer_coop=("training",),
        need_coop=("training", "research"),
        cities=("Hanoi", "Da Nang", "Ho Chi Minh City", "Da Lat"),
        words={
            "field": {
                "vi": ("kỹ thuật hạt nhân", "an toàn bức xạ", "vận hành lưới điện thông minh", "năng lượng tái tạo"),
                "en": ("nuclear engineering", "radiation safety", "smart-grid operation", "renewable energy"),
            },
        },
    ),
    # textiles, garments and footwear
    _Role(
        "vn-garment-factory",
        "VN",
        ("14", "13"),
        ("1410", "1430"),
        (("May mặc", "Garment"), ("Dệt may", "Apparel"), ("May Xuất khẩu", "Fashion")),
        offers=_texts(
            vi="Xưởng may {lines} chuyền tại {city} nhận gia công {garment} và {garment2} theo hình thức FOB và CMT, {pcs} triệu sản phẩm mỗi năm, đạt BSCI và WRAP.",
            en="{lines} sewing lines in {city} making {garment} and {garment2} on FOB and CMT terms, {pcs} million pieces a year, BSCI and WRAP audited.",
        ),
        needs=_texts(
            vi="Tìm thương hiệu và chuỗi bán lẻ thời trang Nga đặt hàng {garment}; cần nguồn vải len, vải chống thấm và bông tấm cho hàng mùa đông.",
            en="Russian fashion brands and retailers to order {garment}; also suppliers of wool fabric, waterproof fabric and insulation wadding for winter lines.",
        ),
        offer_kind="service",
        offer_coop=("manufacturing",),
        need_coop=("manufacturing", "supply"),
        cities=("Ho Chi Minh City", "Hanoi", "Nam Dinh", "Hai Phong", "Binh Duong", "Da Nang"),
        words={
            "garment": {
                "vi": (
                    "áo khoác",
                    "quần áo bảo hộ lao động",
                    "đồ thể thao",
                    "áo sơ mi",
                    "đồng phục",
                    "quần jeans",
                    "áo phao",
                ),
                "en": ("jackets", "workwear", "sportswear", "shirts", "uniforms", "jeans", "down jackets"),
            },
            "lines": range(10, 121),
            "pcs": range(1, 31),
        },
    ),
    _Role(
        "vn-footwear-factory",
        "VN",
        ("15",),
        ("1520", "1512"),
        (("Giày da", "Footwear"), ("Da giày", "Shoes")),
        offers=_texts(
            vi="Nhà máy OEM sản xuất {shoe} và {shoe2}, {pairs} triệu đôi mỗi năm, có dây chuyền gò, ép phun và lưu hóa.",
            en="OEM factory making {shoe} and {shoe2}, {pairs} million pairs a year, with lasting, injection and vulcanising lines.",
        ),
        needs=_texts(
            vi="Tìm thương hiệu và nhà bán lẻ giày tại Nga đặt hàng nhãn riêng từ {moq} đôi mỗi mẫu; cần nguồn da thuộc và vật liệu giữ nhiệt.",
            en="Shoe brands and retailers in Russia for private-label orders from {moq} pairs per style; suppliers of tanned leather and insulating materials.",
        ),
        offer_coop=("manufacturing", "supply"),
        need_coop=("manufacturing", "supply"),
        cities=("Binh Duong", "Dong Nai", "Ho Chi Minh City", "Hai Phong"),
        words={
            "shoe": {
                "vi": ("giày thể thao", "giày da nam", "bốt mùa đông", "giày bảo hộ", "dép"),
                "en": ("sneakers", "men's leather shoes", "winter boots", "safety shoes", "sandals"),
            },
            "pairs": range(1, 16),
        },
    ),
    _Role(
        "vn-textile-mill",
        "VN",
        ("13",),
        ("1311", "1312"),
        (("Dệt", "Textile"), ("Sợi", "Yarn"), ("Dệt nhuộm", "Textiles")),
        offers=_texts(
            vi="Nhà máy sợi, dệt và nhuộm tại {city}: sợi cotton, sợi pha polyester và vải dệt kim, {tons} tấn mỗi năm; nhận nhuộm và hoàn tất theo đơn.",
            en="Spinning, weaving and dyeing in {city}: cotton and polyester-blend yarns and knitted fabrics, {tons} t a year; dyeing and finishing to order.",
        ),
        needs=_texts(
            vi="Cần nguồn bông, xơ polyester và sợi lanh ổn định từ Nga; tìm khách hàng là xưởng may và nhà phân phối vải tại Nga.",
            en="Stable supplies of cotton, polyester staple fibre and flax yarn from Russia, and garment makers and fabric wholesalers in Russia as customers.",
        ),
        need_kind="product",
        offer_coop=("supply",),
        need_coop=("supply", "distribution"),
        cities=("Nam Dinh", "Hanoi", "Ho Chi Minh City", "Dong Nai", "Hung Yen"),
        words={"tons": range(1000, 30001, 1000)},
    ),
    # coal
    _Role(
        "vn-coal-mine",
        "VN",
        ("05",),
        ("0510",),
        (("Than", "Coal"), ("Khoáng sản", "Mining"), ("Than Khoáng sản", "Minerals")),
        offers=_texts(
            vi="Khai thác và sàng tuyển than antraxit tại {city}, sản lượng {mt} triệu tấn mỗi năm; có cảng xuất than và đội xe vận tải riêng.",
            en="We mine and wash anthracite near {city}, {mt} million t a year, with our own coal port and truck fleet.",
        ),
        needs=_texts(
            vi="Cần chuyển giao công nghệ cơ giới hóa khai thác hầm lò, nhà cung cấp máy đào lò và giàn chống thủy lực; tìm nguồn than nhiệt nhập khẩu để phối trộn cho nhà máy điện.",
            en="Technology for mechanised underground mining, suppliers of roadheaders and hydraulic roof supports, and imported thermal coal for blending for power plants.",
        ),
        need_kind="technology",
        offer_coop=("supply",),
        need_coop=("technology_transfer", "supply"),
        cities=("Ha Long", "Cam Pha"),
    ),
    # logistics
    _Role(
        "vn-logistics",
        "VN",
        ("52", "49"),
        ("5210", "5229", "4933"),
        (("Logistics", "Logistics"), ("Vận tải", "Transport"), ("Giao nhận Vận tải", "Shipping")),
        offers=_texts(
            vi="Giao nhận, khai báo hải quan và kho bãi tại cảng {port_vn}: {wh} m² kho ngoại quan và kho lạnh, đội {trucks} xe tải và xe container.",
            en="Freight forwarding, customs brokerage and warehousing at {port_vn}: {wh} m² of bonded and cold storage and a fleet of {trucks} trucks.",
        ),
        needs=_texts(
            vi="Tìm đối tác Nga về vận tải đa phương thức biển – đường sắt từ Vladivostok đến {inland_city}, có container lạnh, để cung cấp dịch vụ trọn gói.",
            en="A Russian partner for sea–rail multimodal transport from Vladivostok to {inland_city}, with reefer capacity, so we can offer door-to-door service.",
        ),
        offer_kind="service",
        offer_coop=("supply",),
        need_coop=("joint_venture", "supply"),
        cities=("Hai Phong", "Ho Chi Minh City", "Da Nang", "Hanoi"),
        words={"trucks": range(20, 301, 10)},
    ),
    # banking and payments
    _Role(
        "vn-payments",
        "VN",
        ("64",),
        ("6419", "6499"),
        (("Thanh toán", "Pay"), ("Tài chính", "Finance"), ("Công nghệ Tài chính", "Fintech")),
        offers=_texts(
            vi="Cổng thanh toán và dịch vụ chấp nhận thẻ, mã QR cho {merchants} điểm bán tại Việt Nam; kết nối với các ngân hàng trong nước và ví điện tử.",
            en="Payment gateway and card and QR acceptance for {merchants} merchants in Vietnam, connected to local banks and e-wallets.",
        ),
        needs=_texts(
            vi="Cần ngân hàng đối tác Nga để thanh toán trực tiếp bằng rúp và đồng, và kết nối chấp nhận thẻ Mir tại điểm bán phục vụ du khách Nga.",
            en="A Russian partner bank for direct ruble–dong settlement, and a link to accept Mir cards at merchants serving Russian tourists.",
        ),
        offer_kind="service",
        offer_coop=("supply",),
        need_coop=("licensing", "joint_venture"),
        cities=("Hanoi", "Ho Chi Minh City"),
        words={"merchants": range(5000, 200001, 5000)},
    ),
)

RU_ROLES: tuple[_Role, ...] = (
    # biotech and diagnostics
    _Role(
        "ru-diagnostics-maker",
        "RU",
        ("21", "72"),
        ("21.20", "72.11"),
        (("Био", "Bio"), ("{b}Диагностика", "{b} Diagnostics"), ("БиоТех", "BioTech")),
        offers=_texts(
            ru="Разрабатываем и производим {dx} и {dx2}, {mln} млн тестов в год; регистрационные удостоверения в России и странах ЕАЭС, производство по стандартам GMP.",
            en="We develop and make {dx} and {dx2}, {mln} million tests a year, registered in Russia and the EAEU and made under GMP.",
        ),
        needs=_texts(
            ru="Ищем дистрибьютора во Вьетнаме с выходом на больницы и лаборатории, готового провести регистрацию в Министерстве здравоохранения Вьетнама; рассмотрим лицензирование производства.",
            en="A distributor in Vietnam with access to hospitals and laboratories that can register our products with the Vietnamese Ministry of Health; licensed local production is possible.",
        ),
        offer_coop=("supply", "licensing"),
        need_coop=("distribution", "licensing", "technology_transfer"),
        cities=("Moscow", "Novosibirsk", "Saint Petersburg", "Tomsk"),
        words={
            "dx": {
                "ru": (
                    "экспресс-тесты",
                    "ПЦР-наборы",
                    "ИФА-тест-системы",
                    "тесты на лихорадку денге",
                    "тесты на малярию",
                ),
                "en": ("rapid tests", "PCR kits", "ELISA test systems", "dengue fever tests", "malaria tests"),
            },
            "mln": range(1, 51),
        },
    ),
    _Role(
        "ru-biotech-research",
        "RU",
        ("72",),
        ("72.11", "72.19"),
        (("БиоНаука", "BioScience"), ("Генетика", "Genetics"), ("Биотехнологии", "Biotechnologies")),
        offers=_texts(
            ru="Лицензируем {tech} и {tech2}, ведём контрактные исследования; научных сотрудников: {staff}, собственная опытная площадка.",
            en="We license {tech} and {tech2} and run contract research; {staff} researchers and our own pilot plant.",
        ),
        needs=_texts(
            ru="Ищем партнёров во Вьетнаме для совместных исследований тропических штаммов и клинических испытаний, а также лаборатории для локализации производства.",
            en="Partners in Vietnam for joint research on tropical strains and clinical trials, and laboratories to localise production.",
        ),
        offer_kind="technology",
        offer_coop=("licensing", "research"),
        need_coop=("research", "technology_transfer"),
        cities=("Moscow", "Novosibirsk", "Kazan", "Tomsk", "Saint Petersburg"),
        words={
            "tech": {
                "ru": (
                    "штаммы-продуценты ферментов",
                    "пробиотические штаммы",
                    "технологию биореакторов",
                    "технологии секвенирования",
                    "биопестициды",
                ),
                "en": (
                    "enzyme-producing strains",
                    "probiotic strains",
                    "bioreactor technology",
                    "sequencing technologies",
                    "biopesticides",
                ),
            },
            "staff": range(10, 301),
        },
    ),
    # pharmaceuticals and medicinal plants
    _Role(
        "ru-generics-maker",
        "RU",
        ("21",),
        ("21.20", "21.10"),
        (("Фарм", "Pharm"), ("Фармация", "Pharma"), ("Медфарм", "Medpharm")),
        offers=_texts(
            ru=(
                "Производство по GMP: {drug} и {drug2} в таблетках, капсулах и ампулах, {units} млн упаковок в год; зарегистрированных препаратов: {reg}. Возможен контрактный выпуск.",
                "Предлагаем передачу технологии и лицензию на производство {drug_gen} на площадке партнёра.",
            ),
            en=(
                "GMP manufacturer of {drug} and {drug2} in tablets, capsules and ampoules, {units} million packs a year and {reg} registered products; contract manufacturing possible.",
                "Technology transfer and licences to produce {drug_gen} at a partner's plant.",
            ),
        ),
        needs=_texts(
            ru="Нужен лицензированный фармдистрибьютор во Вьетнаме с опытом госпитальных тендеров для регистрации и продаж наших препаратов.",
            en="A licensed pharmaceutical distributor in Vietnam with hospital tender experience to register and sell our medicines.",
        ),
        offer_coop=("supply", "licensing", "technology_transfer"),
        need_coop=("distribution",),
        cities=("Saint Petersburg", "Moscow", "Kazan", "Yaroslavl"),
        words={
            "drug": {
                "ru": (
                    "антибиотики",
                    "кардиологические препараты",
                    "противодиабетические средства",
                    "противовирусные препараты",
                    "вакцины",
                ),
                "en": ("antibiotics", "cardiology drugs", "antidiabetic drugs", "antiviral drugs", "vaccines"),
            },
            "drug_gen": {
                "ru": (
                    "антибиотиков",
                    "кардиологических препаратов",
                    "противодиабетических средств",
                    "противовирусных препаратов",
                ),
                "en": ("antibiotics", "cardiology drugs", "antidiabetic drugs", "antiviral drugs"),
            },
            "units": range(10, 901, 10),
            "reg": range(20, 301, 10),
        },
    ),
    _Role(
        "ru-phytopharma",
        "RU",
        ("21",),
        ("21.20",),
        (("Фито", "Phyto"), ("Фитофарм", "Phytopharm"), ("Травы", "Herbs")),
        offers=_texts(
            ru="Выпускаем фитопрепараты, БАДы и травяные сборы на основе {herb_ru}; наименований в портфеле: {items}, продажи через аптечные сети по всей России.",
            en="We make herbal medicines, supplements and herbal teas based on {herb_ru}, {items} products sold through pharmacy chains across Russia.",
        ),
        needs=_texts(
            ru="Ищем поставщиков лекарственного растительного сырья из Вьетнама ({vnherb}, {vnherb2}) с сертификатами анализа и стабильным качеством.",
            en="Suppliers of medicinal plant raw materials from Vietnam, such as {vnherb} and {vnherb2}, with certificates of analysis and steady quality.",
        ),
        need_kind="product",
        offer_coop=("distribution",),
        need_coop=("supply",),
        cities=("Moscow", "Barnaul", "Novosibirsk", "Saint Petersburg"),
        words={
            "herb_ru": {
                "ru": ("алтайских трав", "облепихи", "эхинацеи", "женьшеня"),
                "en": ("Altai herbs", "sea buckthorn", "echinacea", "ginseng"),
            },
            "vnherb": {
                "ru": ("куркума", "корица", "бадьян", "женьшень Нгоклинь", "артишок", "гиностемма"),
                "en": ("turmeric", "cinnamon", "star anise", "Ngoc Linh ginseng", "artichoke", "Gynostemma"),
            },
            "items": range(20, 301, 10),
        },
    ),
    # healthcare
    _Role(
        "ru-medical-devices",
        "RU",
        ("32",),
        ("32.50",),
        (("Медтех", "Medtech"), ("Медтехника", "Medtekhnika"), ("МедПрибор", "Medpribor")),
        offers=_texts(
            ru="Производим {device} и {device2}; регистрационные удостоверения Росздравнадзора и сертификат CE, поставки в {countries} стран.",
            en="We make {device} and {device2}, registered with Roszdravnadzor and CE marked; supplied to {countries} countries.",
        ),
        needs=_texts(
            ru="Ищем эксклюзивного дистрибьютора во Вьетнаме с сервисным центром и опытом регистрации медицинских изделий.",
            en="An exclusive distributor in Vietnam with a service centre and experience of registering medical devices.",
        ),
        offer_coop=("supply", "training"),
        need_coop=("distribution",),
        cities=("Moscow", "Yekaterinburg", "Saint Petersburg", "Kazan", "Nizhny Novgorod"),
        words={
            "device": {
                "ru": (
                    "аппараты УЗИ",
                    "хирургические инструменты",
                    "стоматологические импланты",
                    "аппараты ИВЛ",
                    "офтальмологические лазеры",
                    "реабилитационные тренажёры",
                ),
                "en": (
                    "ultrasound scanners",
                    "surgical instruments",
                    "dental implants",
                    "ventilators",
                    "ophthalmic lasers",
                    "rehabilitation trainers",
                ),
            },
        },
    ),
    _Role(
        "ru-clinic",
        "RU",
        ("86",),
        ("86.10", "86.22", "86.90"),
        (("Клиника {b}", "{b} Clinic"), ("Медицинский центр {b}", "{b} Medical Centre"), ("{b} Мед", "{b} Med")),
        offers=_texts(
            ru="Многопрофильная клиника ({city}): {spec}, {spec2}; лечим иностранных пациентов, проводим стажировки и обучение врачей.",
            en="Multidisciplinary clinic in {city} specialising in {spec} and {spec2}; we treat foreign patients and train visiting doctors.",
        ),
        needs=_texts(
            ru="Ищем партнёрские клиники во Вьетнаме для направления пациентов, совместных консилиумов и телемедицины; рассмотрим закупки медицинских расходных материалов.",
            en="Partner clinics in Vietnam for patient referrals, joint case reviews and telemedicine; we also buy medical consumables.",
        ),
        offer_kind="service",
        offer_coop=("training",),
        need_coop=("joint_venture", "supply"),
        cities=("Moscow", "Saint Petersburg", "Novosibirsk", "Vladivostok", "Kazan"),
        words={
            "spec": {
                "ru": ("кардиология", "офтальмология", "реабилитация", "онкология", "ортопедия", "нейрохирургия"),
                "en": ("cardiology", "ophthalmology", "rehabilitation", "oncology", "orthopaedics", "neurosurgery"),
            },
        },
    ),
    # IT and software
    _Role(
        "ru-software-vendor",
        "RU",
        ("62",),
        ("62.01", "62.02"),
        (("Софт", "Soft"), ("Системы", "Systems"), ("Технологии", "Technologies"), ("Информ", "Inform")),
        offers=_texts(
            ru="Разрабатываем {product}; у нас более {clients} заказчиков, интерфейс можно локализовать на вьетнамский язык.",
            en="Our {product} is used by {clients} customers; the interface can be localised into Vietnamese.",
        ),
        needs=_texts(
            ru="Ищем интеграторов и реселлеров во Вьетнаме с контрактами в банковском и государственном секторе для продаж, внедрения и поддержки.",
            en="Integrators and resellers in Vietnam with contracts in banking and government to sell, implement and support our products.",
        ),
        offer_kind="technology",
        offer_coop=("licensing",),
        need_coop=("distribution", "licensing"),
        cities=("Moscow", "Saint Petersburg", "Kazan", "Novosibirsk", "Yekaterinburg", "Tomsk"),
        words={
            "product": {
                "ru": (
                    "ERP-систему",
                    "антивирус",
                    "SIEM-систему",
                    "CAD-систему",
                    "платформу видеоаналитики",
                    "систему управления складом",
                ),
                "en": (
                    "ERP system",
                    "antivirus suite",
                    "SIEM system",
                    "CAD system",
                    "video analytics platform",
                    "warehouse management system",
                ),
            },
        },
    ),
    _Role(
        "ru-digital-platform",
        "RU",
        ("63", "62"),
        ("63.11", "63.12"),
        (("Диджитал", "Digital"), ("Онлайн", "Online"), ("Дата", "Data")),
        offers=_texts(
            ru="Маркетплейс и облачная платформа для электронной коммерции: {users} млн пользователей, обработка данных и хостинг в собственных дата-центрах.",
            en="E-commerce marketplace and cloud platform with {users} million users, data processing and hosting in our own data centres.",
        ),
        needs=_texts(
            ru="Ищем команду разработчиков во Вьетнаме ({stack}, {stack2}) для долгосрочного аутсорсинга и тестирования, а также партнёров для выхода на рынок Юго-Восточной Азии.",
            en="A development team in Vietnam ({stack}, {stack2}) for long-term outsourcing and testing, and partners to enter the Southeast Asian market.",
        ),
        offer_kind="service",
        need_kind="service",
        offer_coop=("distribution",),
        need_coop=("supply", "joint_venture"),
        cities=("Moscow", "Saint Petersburg", "Kazan", "Novosibirsk"),
        words={"users": range(1, 41)},
    ),
    # oil and gas
    _Role(
        "ru-oilfield-equipment",
        "RU",
        ("28", "09"),
        ("28.92", "28.13"),
        (
            ("Нефтемаш", "Neftemash"),
            ("Буровое оборудование", "Drilling Equipment"),
            ("Нефтегазмаш", "Oilfield Machinery"),
        ),
        offers=_texts(
            ru="Производим {oileq} и {oileq2} по стандартам API и ГОСТ, {kt} тыс. т в год; ремонт и сервис бурового инструмента.",
            en="We make {oileq} and {oileq2} to API and GOST standards, {kt} thousand t a year, and repair drilling tools.",
        ),
        needs=_texts(
            ru="Нужен дистрибьютор во Вьетнаме со складом и сервисной службой для работы с буровыми подрядчиками на шельфе.",
            en="A stocking distributor in Vietnam with service capability to serve offshore drilling contractors.",
        ),
        offer_coop=("supply",),
        need_coop=("distribution",),
        cities=("Saint Petersburg", "Perm", "Yekaterinburg", "Samara", "Tyumen", "Ufa"),
        words={
            "oileq": {
                "ru": (
                    "бурильные трубы",
                    "оборудование устья скважин",
                    "погружные электроцентробежные насосы",
                    "трубопроводную арматуру",
                ),
                "en": ("drill pipes", "wellhead equipment", "electric submersible pumps", "industrial valves"),
            },
        },
    ),
    _Role(
        "ru-oilfield-services",
        "RU",
        ("09", "06"),
        ("09.10", "06.10"),
        (("Нефтесервис", "Neftservice"), ("Геофизика", "Geophysics"), ("НефтеТех", "Oiltech")),
        offers=_texts(
            ru="Технологии повышения нефтеотдачи, {oilsvc}; {years} лет работы на месторождениях Западной Сибири и на шельфе.",
            en="Enhanced oil recovery technology and {oilsvc}; {years} years on fields in Western Siberia and offshore.",
        ),
        needs=_texts(
            ru="Ищем вьетнамского партнёра для совместных проектов на шельфе Вьетнама и местных субподрядчиков с судами обеспечения.",
            en="A Vietnamese partner for joint projects on the Vietnamese shelf and local subcontractors with support vessels.",
        ),
        offer_kind="technology",
        offer_coop=("technology_transfer", "supply"),
        need_coop=("joint_venture", "supply"),
        cities=("Moscow", "Tyumen", "Tomsk", "Kazan", "Ufa"),
        words={
            "oilsvc": {
                "ru": (
                    "гидроразрыв пласта",
                    "сейсморазведка 3D",
                    "капитальный ремонт скважин",
                    "геофизические исследования скважин",
                ),
                "en": ("hydraulic fracturing", "3D seismic surveys", "well workover", "well logging"),
            },
        },
    ),
    _Role(
        "ru-gas-supplier",
        "RU",
        ("06",),
        ("06.20", "06.10"),
        (("Газ", "Gaz"), ("Нефтегаз", "Neftegaz"), ("Энергоресурс", "Energoresurs")),
        offers=_texts(
            ru="Поставки СПГ и сжиженного углеводородного газа: {kt} тыс. т в год, отгрузка из порта {port_ru} на условиях FOB и CIF.",
            en="LNG and LPG supply, {kt} thousand t a year, shipped from {port_ru} on flexible FOB and CIF terms.",
        ),
        needs=_texts(
            ru="Ищем импортёров и газораспределительные компании во Вьетнаме для долгосрочных контрактов; рассмотрим участие в строительстве терминала СПГ.",
            en="Importers and gas distributors in Vietnam for long-term contracts; we would consider investing in an LNG terminal.",
        ),
        offer_coop=("supply",),
        need_coop=("distribution", "investment"),
        cities=("Moscow", "Saint Petersburg", "Yuzhno-Sakhalinsk", "Tyumen"),
    ),
    # automotive and tractors
    _Role(
        "ru-vehicle-maker",
        "RU",
        ("29",),
        ("29.10", "29.20"),
        (("Автозавод {b}", "{b} Auto Plant"), ("Авто", "Auto"), ("Моторс", "Motors")),
        offers=_texts(
            ru="Выпускаем {vehicle} и {vehicle2}, {cars} машин в год; готовы поставлять машинокомплекты SKD и CKD и передавать технологию сборки.",
            en="We build {vehicle} and {vehicle2}, {cars} vehicles a year, and can supply SKD and CKD kits with assembly know-how.",
        ),
        needs=_texts(
            ru="Ищем партнёра во Вьетнаме для локальной сборки и создания дилерской сети; нужны поставщики автокомпонентов — жгутов проводов и резинотехнических изделий.",
            en="A partner in Vietnam for local assembly and a dealer network, and suppliers of components such as wire harnesses and rubber parts.",
        ),
        offer_coop=("supply", "technology_transfer"),
        need_coop=("joint_venture", "distribution", "supply"),
        cities=("Nizhny Novgorod", "Naberezhnye Chelny", "Togliatti", "Moscow", "Yaroslavl"),
        words={
            "vehicle": {
                "ru": ("лёгкие коммерческие автомобили", "автобусы", "грузовики", "спецтехнику", "электробусы"),
                "en": ("light commercial vehicles", "buses", "trucks", "special vehicles", "electric buses"),
            },
            "cars": range(2000, 100001, 1000),
        },
    ),
    _Role(
        "ru-tractor-maker",
        "RU",
        ("28",),
        ("28.30",),
        (("Тракторный завод {b}", "{b} Tractor Works"), ("Агромаш", "Agromash"), ("Сельмаш", "Selmash")),
        offers=_texts(
            ru="Производим тракторы мощностью {hp} л. с. и зерноуборочные комбайны: {units_small} машин в год, запчасти и обучение механиков.",
            en="We make {hp} hp tractors and combine harvesters, {units_small} machines a year, with spare parts and mechanic training.",
        ),
        needs=_texts(
            ru="Ищем дилеров в дельте Меконга и дельте Красной реки, а также партнёра для сборки тракторов, адаптированных к рисовым полям.",
            en="Dealers in the Mekong and Red River deltas and an assembly partner for tractors adapted to rice paddies.",
        ),
        offer_coop=("supply", "training"),
        need_coop=("distribution", "joint_venture"),
        cities=("Saint Petersburg", "Cheboksary", "Rostov-on-Don", "Krasnoyarsk"),
    ),
    # energy
    _Role(
        "ru-power-engineering",
        "RU",
        ("35",),
        ("35.11", "35.12"),
        (("Энерго", "Energo"), ("Энергомаш", "Energomash"), ("ГидроЭнерго", "Hydroenergo")),
        offers=_texts(
            ru="Проектирование, поставка и модернизация {powereq} и {powereq2} для ТЭС и ГЭС; реализовано {projects} проектов в {countries} странах.",
            en="Design, supply and modernisation of {powereq} and {powereq2} for thermal and hydropower plants; {projects} projects in {countries} countries.",
        ),
        needs=_texts(
            ru="Ищем EPC-подрядчиков и девелоперов во Вьетнаме для совместного участия в проектах {plant_ru}.",
            en="EPC contractors and developers in Vietnam to bid jointly for {plant_ru} projects.",
        ),
        offer_coop=("supply", "technology_transfer"),
        need_coop=("joint_venture", "investment"),
        cities=("Moscow", "Saint Petersburg", "Yekaterinburg", "Krasnoyarsk"),
        words={
            "powereq": {
                "ru": (
                    "гидротурбин",
                    "силовых трансформаторов",
                    "ветроустановок",
                    "высоковольтного оборудования",
                    "паровых турбин",
                ),
                "en": (
                    "hydro turbines",
                    "power transformers",
                    "wind turbines",
                    "high-voltage equipment",
                    "steam turbines",
                ),
            },
            "plant_ru": {
                "ru": ("возобновляемой энергетики", "модернизации ГЭС", "ветроэнергетики", "солнечной энергетики"),
                "en": ("renewable energy", "hydropower modernisation", "wind power", "solar power"),
            },
            "projects": range(10, 301, 10),
        },
    ),
    _Role(
        "ru-nuclear-training",
        "RU",
        ("85", "35"),
        ("85.30", "85.42"),
        (
            ("Учебный центр {b}", "{b} Training Centre"),
            ("Академия {b}", "{b} Academy"),
            ("Институт {b}", "{b} Institute"),
        ),
        offers=_texts(
            ru="Обучение и повышение квалификации по направлениям: {field}, {field2}; тренажёры энергоблоков, {trainees} слушателей в год, программы на английском языке.",
            en="Training and professional development in {field} and {field2}, with power-unit simulators, {trainees} trainees a year and courses in English.",
        ),
        needs=_texts(
            ru="Ищем университеты и энергетические компании Вьетнама для набора студентов, совместных программ и стажировок.",
            en="Universities and energy companies in Vietnam to recruit students and run joint programmes and internships.",
        ),
        offer_kind="service",
        offer_coop=("training",),
        need_coop=("training", "research"),
        cities=("Moscow", "Tomsk", "Saint Petersburg", "Yekaterinburg"),
        words={
            "field": {
                "ru": (
                    "атомная энергетика",
                    "радиационная безопасность",
                    "эксплуатация АЭС",
                    "ядерная медицина",
                    "эксплуатация электросетей",
                ),
                "en": (
                    "nuclear engineering",
                    "radiation safety",
                    "nuclear plant operation",
                    "nuclear medicine",
                    "grid operation",
                ),
            },
        },
    ),
    # agriculture: coffee, tea, fruit, seeds, fertiliser, pesticides
    _Role(
        "ru-coffee-roaster",
        "RU",
        ("10",),
        ("10.83",),
        (("Кофе", "Coffee"), ("Чай и кофе", "Tea & Coffee"), ("Кофейная компания {b}", "{b} Coffee Company")),
        offers=_texts(
            ru="Обжарочное производство мощностью {qty_small} т кофе в год, собственные марки в {stores} магазинах и поставки в кофейни; фасовка чая и кофе под СТМ.",
            en="Roastery producing {qty_small} t of coffee a year, our own brands in {stores} stores and supplies to coffee shops; private-label packing of tea and coffee.",
        ),
        needs=_texts(
            ru="Ищем прямых поставщиков зелёного кофе робуста и арабика из Вьетнама — от {containers} контейнеров в месяц, а также производителей растворимого кофе.",
            en="Direct suppliers of green Robusta and Arabica from Vietnam, from {containers} containers a month, and makers of instant coffee.",
        ),
        need_kind="product",
        offer_coop=("distribution", "manufacturing"),
        need_coop=("supply",),
        cities=("Moscow", "Saint Petersburg", "Kaliningrad", "Yekaterinburg", "Novosibirsk"),
    ),
    _Role(
        "ru-food-importer",
        "RU",
        ("46", "10"),
        ("46.37", "46.31", "46.38"),
        (("Продукт", "Food"), ("Трейд", "Trade"), ("Импорт", "Import")),
        offers=_texts(
            ru="Импорт и дистрибуция продуктов питания: склады {wh} м² ({city}), поставки в {stores} магазинов федеральных и региональных сетей.",
            en="Food import and distribution with {wh} m² of warehouses in {city}, supplying {stores} stores of national and regional chains.",
        ),
        needs=_texts(
            ru="Ищем поставщиков из Вьетнама: {vnfood}, {vnfood2}; нужны сертификаты ЕАЭС и стабильные поставки.",
            en="Suppliers from Vietnam of {vnfood} and {vnfood2}, with EAEU certificates and steady deliveries.",
        ),
        offer_kind="service",
        need_kind="product",
        offer_coop=("distribution",),
        need_coop=("supply", "distribution"),
        cities=("Moscow", "Saint Petersburg", "Vladivostok", "Novosibirsk", "Yekaterinburg", "Khabarovsk"),
        words={
            "vnfood": {
                "ru": ("кофе", "чай", "тропические фрукты", "рисовая лапша", "кешью", "специи", "морепродукты"),
                "en": ("coffee", "tea", "tropical fruit", "rice noodles", "cashews", "spices", "seafood"),
            },
        },
    ),
    _Role(
        "ru-fertiliser-producer",
        "RU",
        ("20",),
        ("20.15",),
        (("Агрохим", "Agrokhim"), ("Удобрения", "Fertilisers"), ("Химпром", "Khimprom")),
        offers=_texts(
            ru="Производим и экспортируем {fert} и {fert2}: {mt} млн т в год, навалом и в биг-бэгах через порт {port_ru}.",
            en="We produce and export {fert} and {fert2}, {mt} million t a year, in bulk and big bags via {port_ru}.",
        ),
        needs=_texts(
            ru="Ищем импортёров и производителей тукосмесей во Вьетнаме со складскими мощностями для годовых контрактов от {fert_qty} т.",
            en="Importers and blenders in Vietnam with warehouses for annual contracts from {fert_qty} t.",
        ),
        offer_coop=("supply",),
        need_coop=("distribution", "supply"),
        cities=("Perm", "Moscow", "Veliky Novgorod"),
        words={
            "fert": {
                "ru": ("хлористый калий", "NPK 16-16-16", "карбамид", "аммиачную селитру", "сульфат аммония"),
                "en": ("potash (MOP)", "NPK 16-16-16", "urea", "ammonium nitrate", "ammonium sulphate"),
            },
        },
    ),
    _Role(
        "ru-grain-and-seeds",
        "RU",
        ("01",),
        ("01.11", "01.30"),
        (("Агро", "Agro"), ("Семена", "Seeds"), ("Зерно", "Grain")),
        offers=_texts(
            ru="Поставляем продовольственную и фуражную пшеницу, ячмень и семена {seed} собственной селекции: {kt} тыс. т в год, отгрузка из порта {port_ru}.",
            en="Milling and feed wheat, barley and our own {seed} seed varieties; {kt} thousand t a year shipped from {port_ru}.",
        ),
        needs=_texts(
            ru="Ищем покупателей во Вьетнаме — комбикормовые и мукомольные заводы, импортёров зерна; интересуют встречные поставки тропических фруктов и кофе.",
            en="Buyers in Vietnam such as feed and flour mills and grain importers; we are also interested in tropical fruit and coffee in return.",
        ),
        offer_coop=("supply",),
        need_coop=("distribution", "supply"),
        cities=("Krasnodar", "Rostov-on-Don", "Novosibirsk", "Voronezh"),
        words={
            "seed": {
                "ru": ("подсолнечника", "кукурузы", "сои", "рапса"),
                "en": ("sunflower", "maize", "soybean", "rapeseed"),
            }
        },
    ),
    _Role(
        "ru-agri-input-distributor",
        "RU",
        ("46", "01"),
        ("46.75", "46.21"),
        (("Агроснаб", "Agrosnab"), ("АгроТорг", "Agrotorg")),
        offers=_texts(
            ru="Дистрибуция средств защиты растений и удобрений: {branches} филиалов в {regions} регионах России, агрономическое сопровождение хозяйств.",
            en="Distribution of crop-protection products and fertilisers through {branches} branches in {regions} Russian regions, with agronomic support for farms.",
        ),
        needs=_texts(
            ru="Ищем производителей биопестицидов и микробиологических удобрений, готовых зарегистрировать продукты в России.",
            en="Makers of bio-pesticides and microbial fertilisers ready to register their products in Russia.",
        ),
        offer_kind="service",
        need_kind="product",
        offer_coop=("distribution",),
        need_coop=("distribution", "supply"),
        cities=("Krasnodar", "Voronezh", "Moscow", "Rostov-on-Don"),
        words={"branches": range(10, 121, 10), "regions": range(10, 81, 5)},
    ),
    # seafood
    _Role(
        "ru-fishing-company",
        "RU",
        ("03", "10"),
        ("03.11", "10.20"),
        (("Рыбпром", "Rybprom"), ("Морепродукты", "Seafood"), ("Рыбная компания {b}", "{b} Fishing Company")),
        offers=_texts(
            ru="Добыча и заморозка в море: {fish}, {fish2}, {fish3}; {kt} тыс. т в год, {vessels} траулеров и холодильник в порту {port_ru}.",
            en="Catching and freezing at sea: {fish}, {fish2} and {fish3}, {kt} thousand t a year; {vessels} trawlers and a cold store at {port_ru}.",
        ),
        needs=_texts(
            ru="Ищем рыбоперерабатывающие заводы во Вьетнаме для давальческой переработки и покупателей мороженой рыбы; готовы закупать вьетнамскую креветку на обратный рейс.",
            en="Processing plants in Vietnam for toll processing and buyers of frozen fish; we would also import Vietnamese shrimp on the return leg.",
        ),
        need_kind="service",
        offer_coop=("supply",),
        need_coop=("manufacturing", "distribution"),
        cities=("Vladivostok", "Murmansk", "Petropavlovsk-Kamchatsky", "Yuzhno-Sakhalinsk"),
        words={
            "fish": {
                "ru": ("минтай", "треска", "сельдь", "лосось", "краб", "кальмар"),
                "en": ("pollock", "cod", "herring", "salmon", "crab", "squid"),
            },
            "vessels": range(5, 41, 5),
        },
    ),
    _Role(
        "ru-seafood-importer",
        "RU",
        ("46", "10"),
        ("46.38",),
        (("Океан", "Ocean"), ("Морской продукт", "Sea Product"), ("Рыбторг", "Rybtorg")),
        offers=_texts(
            ru="Импорт и оптовая торговля морепродуктами, холодильные склады на {cold} т ({city}), доставка в торговые сети и HoReCa.",
            en="Seafood import and wholesale, {cold} t of cold storage in {city}, deliveries to retail chains and HoReCa.",
        ),
        needs=_texts(
            ru="Ищем вьетнамских производителей {vnfish} и {vnfish2} с допуском на экспорт в ЕАЭС для регулярных контейнерных поставок.",
            en="Vietnamese producers of {vnfish} and {vnfish2} approved for export to the EAEU, for regular container shipments.",
        ),
        offer_kind="service",
        need_kind="product",
        offer_coop=("distribution",),
        need_coop=("supply",),
        cities=("Moscow", "Saint Petersburg", "Vladivostok", "Yekaterinburg"),
        words={
            "vnfish": {
                "ru": ("филе пангасиуса", "креветок ваннамей", "тигровых креветок", "тунца", "кальмаров"),
                "en": ("pangasius fillets", "vannamei shrimp", "black tiger shrimp", "tuna", "squid"),
            },
        },
    ),
    # textiles, garments and footwear
    _Role(
        "ru-apparel-brand",
        "RU",
        ("14",),
        ("14.13", "14.19"),
        (("Стиль", "Style"), ("Мода", "Moda"), ("Текстиль Групп", "Textile Group")),
        offers=_texts(
            ru="Собственный бренд одежды: {stores} магазинов и продажи на маркетплейсах; разрабатываем коллекции {garment} и {garment2}.",
            en="Our own clothing brand with {stores} stores and marketplace sales; we design collections of {garment} and {garment2}.",
        ),
        needs=_texts(
            ru="Ищем швейные фабрики во Вьетнаме для размещения заказов {garment} на условиях FOB, от {moq} единиц на модель.",
            en="Garment factories in Vietnam to make {garment} on FOB terms, from {moq} pieces per style.",
        ),
        offer_kind="partnership",
        need_kind="service",
        offer_coop=("distribution",),
        need_coop=("manufacturing",),
        cities=("Moscow", "Saint Petersburg", "Yekaterinburg", "Novosibirsk", "Ivanovo"),
        words={
            "garment": {
                "ru": ("верхней одежды", "спецодежды", "спортивной одежды", "детской одежды", "пуховиков"),
                "en": ("outerwear", "workwear", "sportswear", "children's wear", "down jackets"),
            },
        },
    ),
    _Role(
        "ru-shoe-brand",
        "RU",
        ("15",),
        ("15.20",),
        (("Обувь", "Obuv"), ("Шуз", "Shoes"), ("Обувная компания {b}", "{b} Footwear")),
        offers=_texts(
            ru="Сеть из {stores} обувных магазинов и фабрика кожаной обуви; поставляем выделанную кожу и утеплители.",
            en="A chain of {stores} shoe stores and a leather footwear factory; we supply tanned leather and insulating materials.",
        ),
        needs=_texts(
            ru="Ищем фабрики во Вьетнаме для производства {shoe} под нашей маркой, от {moq} пар на модель.",
            en="Factories in Vietnam to make {shoe} under our brand, from {moq} pairs per style.",
        ),
        need_kind="service",
        offer_coop=("supply", "distribution"),
        need_coop=("manufacturing",),
        cities=("Moscow", "Saint Petersburg", "Rostov-on-Don"),
        words={
            "shoe": {
                "ru": ("зимних ботинок", "кроссовок", "мужской кожаной обуви", "защитной обуви"),
                "en": ("winter boots", "sneakers", "men's leather shoes", "safety footwear"),
            },
        },
    ),
    _Role(
        "ru-textile-mill",
        "RU",
        ("13",),
        ("13.20", "13.10"),
        (("Текстиль", "Textile"), ("Лён", "Linen"), ("Ткани", "Fabrics")),
        offers=_texts(
            ru="Производим {fabric} и {fabric2}: {mln} млн погонных метров в год; поставляем также льняное волокно и полиэфирную нить.",
            en="We make {fabric} and {fabric2}, {mln} million running metres a year, and supply flax fibre and polyester filament.",
        ),
        needs=_texts(
            ru="Ищем швейные и текстильные предприятия во Вьетнаме как покупателей наших тканей и волокна, а также дистрибьютора.",
            en="Garment and textile makers in Vietnam to buy our fabrics and fibre, and a distributor.",
        ),
        offer_coop=("supply",),
        need_coop=("distribution", "supply"),
        cities=("Ivanovo", "Moscow", "Saint Petersburg"),
        words={
            "fabric": {
                "ru": ("льняные ткани", "технические ткани", "мембранные ткани", "хлопчатобумажные ткани"),
                "en": ("linen fabrics", "technical textiles", "membrane fabrics", "cotton fabrics"),
            },
            "mln": range(1, 41),
        },
    ),
    # coal
    _Role(
        "ru-coal-producer",
        "RU",
        ("05",),
        ("05.10", "05.20"),
        (("Уголь", "Coal"), ("Углеснаб", "Uglesnab"), ("Угольная компания {b}", "{b} Coal Company")),
        offers=_texts(
            ru="Добываем энергетический уголь марки {coal} (теплотворная способность {kcal} ккал/кг): {mt} млн т в год, отгрузка через порт {port_ru}.",
            en="Thermal coal of grade {coal} ({kcal} kcal/kg), {mt} million t a year, shipped via {port_ru}.",
        ),
        needs=_texts(
            ru="Ищем импортёров угля и генерирующие компании во Вьетнаме для долгосрочных контрактов, а также партнёра по перевалке в порту {port_vn}.",
            en="Coal importers and power generators in Vietnam for long-term contracts, and a partner for transhipment at {port_vn}.",
        ),
        offer_coop=("supply",),
        need_coop=("distribution", "supply"),
        cities=("Kemerovo", "Novokuznetsk", "Krasnoyarsk", "Moscow", "Vladivostok"),
        words={"coal": {"ru": ("Д", "ДГ", "Г", "Т"), "en": ("D", "DG", "G", "T")}, "kcal": range(5000, 6501, 100)},
    ),
    _Role(
        "ru-mining-machinery",
        "RU",
        ("28", "05"),
        ("28.92",),
        (("Гормаш", "Gormash"), ("Шахтное оборудование", "Mining Equipment")),
        offers=_texts(
            ru="Производим {mineq} и {mineq2} для подземной добычи угля; сервис и обучение персонала на месте.",
            en="We make {mineq} and {mineq2} for underground coal mining, with on-site service and staff training.",
        ),
        needs=_texts(
            ru="Ищем дистрибьютора и сервисного партнёра в провинции Куангнинь для поставок угледобывающим компаниям Вьетнама.",
            en="A distributor and service partner in Quang Ninh to supply Vietnamese coal miners.",
        ),
        offer_coop=("supply", "technology_transfer", "training"),
        need_coop=("distribution",),
        cities=("Kemerovo", "Yekaterinburg", "Novosibirsk"),
        words={
            "mineq": {
                "ru": ("проходческие комбайны", "механизированные крепи", "ленточные конвейеры", "шахтные вентиляторы"),
                "en": ("roadheaders", "powered roof supports", "belt conveyors", "mine fans"),
            },
        },
    ),
    # logistics
    _Role(
        "ru-rail-logistics",
        "RU",
        ("49", "52"),
        ("49.20", "52.29", "52.10"),
        (("Транс", "Trans"), ("Логистик", "Logistic"), ("Трансэкспедиция", "Transexpedition")),
        offers=_texts(
            ru="Контейнерные поезда Владивосток — {inland_city}: {trains} отправок в неделю, рефконтейнеры и таможенное оформление; складской терминал {wh} м².",
            en="Container trains from Vladivostok to {inland_city}, {trains} departures a week, reefer containers and customs clearance; a {wh} m² warehouse terminal.",
        ),
        needs=_texts(
            ru="Ищем вьетнамских экспедиторов и грузовладельцев для загрузки поездов, а также агента в порту {port_vn}.",
            en="Vietnamese forwarders and shippers to fill our trains, and an agent at {port_vn}.",
        ),
        offer_kind="service",
        offer_coop=("supply",),
        need_coop=("joint_venture", "distribution"),
        cities=("Vladivostok", "Moscow", "Novosibirsk", "Yekaterinburg", "Khabarovsk"),
        words={"trains": range(5, 21)},
    ),
    # banking and payments
    _Role(
        "ru-settlement-bank",
        "RU",
        ("64",),
        ("64.19", "64.99"),
        (("{b} Банк", "{b} Bank"), ("Финанс", "Finance"), ("Расчётный центр {b}", "{b} Settlement Centre")),
        offers=_texts(
            ru="Расчёты в рублях и донгах, аккредитивы и торговое финансирование для экспортёров и импортёров, работающих с Вьетнамом; обслуживаем более {clients} корпоративных клиентов.",
            en="Ruble–dong settlement accounts, letters of credit and trade finance for exporters and importers working with Vietnam; over {clients} corporate clients.",
        ),
        needs=_texts(
            ru="Ищем вьетнамского платёжного провайдера для приёма карт «Мир» и QR-платежей у продавцов, которых посещают российские туристы.",
            en="A licensed Vietnamese payment provider to accept Mir cards and QR payments at merchants visited by Russian tourists.",
        ),
        offer_kind="service",
        offer_coop=("supply",),
        need_coop=("licensing", "joint_venture"),
        cities=("Moscow", "Vladivostok", "Saint Petersburg", "Kazan"),
    ),
)

ROLES: dict[str, tuple[_Role, ...]] = {"VN": VN_ROLES, "RU": RU_ROLES}

# --- names and contacts ------------------------------------------------------------------------

_VN_BRANDS = (
    "Phương Nam",
    "Việt Á",
    "An Phát",
    "Minh Long",
    "Hồng Hà",
    "Sông Hàn",
    "Đông Á",
    "Thành Công",
    "Hòa Bình",
    "Sao Mai",
    "Bình Minh",
    "Trường Sơn",
    "Hưng Thịnh",
    "Phú Quý",
    "Thiên Long",
    "Nam Việt",
    "Kim Ngân",
    "Hải Âu",
    "Lạc Hồng",
    "Đại Dương",
    "Vạn Xuân",
    "Tân Tiến",
    "Ánh Dương",
    "Hoàng Gia",
    "Sen Vàng",
    "Cửu Long",
    "Hà Thành",
    "Sài Gòn",
    "Tây Bắc",
    "Thăng Long",
    "Việt Tiến",
    "Hưng Phát",
    "Đông Dương",
    "Kim Long",
    "Toàn Cầu",
    "Mekong",
    "Á Châu",
    "Tràng An",
    "Phú Thịnh",
    "Bắc Sơn",
)
_VN_NAME_PREFIXES = ("", "", "", "Sản xuất và Thương mại ", "Xuất nhập khẩu ", "Đầu tư và Phát triển ")
_VN_FAMILY = (
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Huỳnh", 4),
    ("Phan", 4),
    ("Vũ", 4),
    ("Võ", 3),
    ("Đặng", 2),
    ("Bùi", 2),
    ("Đỗ", 2),
    ("Hồ", 2),
    ("Ngô", 2),
    ("Dương", 1),
    ("Lý", 1),
)
_VN_MIDDLE = {"m": ("Văn", "Đức", "Hữu", "Quốc", "Minh", "Thanh"), "f": ("Thị", "Thu", "Ngọc", "Thanh", "Minh")}
_VN_GIVEN = {
    "m": (
        "Hùng",
        "Dũng",
        "Tuấn",
        "Minh",
        "Nam",
        "Long",
        "Sơn",
        "Thắng",
        "Hải",
        "Quang",
        "Phong",
        "Đức",
        "Toàn",
        "Hậu",
        "Khánh",
    ),
    "f": ("Lan", "Hương", "Mai", "Linh", "Trang", "Thảo", "Ngọc", "Hà", "Thủy", "Yến", "Chi", "Vy"),
}

_RU_BRANDS = (
    ("Нева", "Neva"),
    ("Волга", "Volga"),
    ("Урал", "Ural"),
    ("Сибирь", "Sibir"),
    ("Восток", "Vostok"),
    ("Байкал", "Baikal"),
    ("Амур", "Amur"),
    ("Кама", "Kama"),
    ("Север", "Sever"),
    ("Приморье", "Primorye"),
    ("Алтай", "Altai"),
    ("Ока", "Oka"),
    ("Дон", "Don"),
    ("Енисей", "Yenisei"),
    ("Балт", "Balt"),
    ("Тайга", "Taiga"),
    ("Вектор", "Vektor"),
    ("Гранит", "Granit"),
    ("Меридиан", "Meridian"),
    ("Импульс", "Impuls"),
    ("Прогресс", "Progress"),
    ("Кедр", "Kedr"),
    ("Заря", "Zarya"),
    ("Русь", "Rus"),
    ("Дельта", "Delta"),
    ("Орион", "Orion"),
    ("Атлант", "Atlant"),
    ("Полярис", "Polaris"),
    ("Сокол", "Sokol"),
    ("Арктика", "Arktika"),
    ("Ладога", "Ladoga"),
    ("Вега", "Vega"),
    ("Спектр", "Spektr"),
    ("Кристалл", "Kristall"),
    ("Горизонт", "Gorizont"),
)
_RU_GIVEN = {
    "m": (
        ("Алексей", "Alexei"),
        ("Дмитрий", "Dmitry"),
        ("Сергей", "Sergei"),
        ("Андрей", "Andrei"),
        ("Иван", "Ivan"),
        ("Михаил", "Mikhail"),
        ("Павел", "Pavel"),
        ("Роман", "Roman"),
        ("Денис", "Denis"),
        ("Виктор", "Viktor"),
    ),
    "f": (
        ("Ольга", "Olga"),
        ("Елена", "Elena"),
        ("Наталья", "Natalia"),
        ("Анна", "Anna"),
        ("Татьяна", "Tatiana"),
        ("Мария", "Maria"),
        ("Ирина", "Irina"),
        ("Екатерина", "Ekaterina"),
    ),
}
_RU_PATRONYMICS = (
    ("Александрович", "Александровна"),
    ("Сергеевич", "Сергеевна"),
    ("Викторович", "Викторовна"),
    ("Николаевич", "Николаевна"),
    ("Петрович", "Петровна"),
    ("Андреевич", "Андреевна"),
    ("Игоревич", "Игоревна"),
)
# Male forms; the female form adds "а"/"a" (Иванов → Иванова).
_RU_SURNAMES = (
    ("Иванов", "Ivanov"),
    ("Смирнов", "Smirnov"),
    ("Кузнецов", "Kuznetsov"),
    ("Попов", "Popov"),
    ("Лебедев", "Lebedev"),
    ("Козлов", "Kozlov"),
    ("Новиков", "Novikov"),
    ("Морозов", "Morozov"),
    ("Волков", "Volkov"),
    ("Соколов", "Sokolov"),
    ("Орлов", "Orlov"),
    ("Зайцев", "Zaitsev"),
    ("Гусев", "Gusev"),
    ("Яковлев", "Yakovlev"),
    ("Белов", "Belov"),
    ("Никитин", "Nikitin"),
    ("Ильин", "Ilyin"),
    ("Фомин", "Fomin"),
    ("Хасанов", "Khasanov"),
    ("Сафин", "Safin"),
)

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
        vocab = self.words.get(base) or _COMMON_WORDS[base]
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
    if role.country == "VN":
        brand = rng.choice(_VN_BRANDS)
        brand_latin = _ascii(brand)
        english_name = english.format(b=brand_latin) if "{b}" in english else f"{brand_latin} {english}"
        wants_local = rng.random() < (0.8 if text_lang in ("vi", "mix") else 0.3)
        if wants_local:
            core = local.format(b=brand) if "{b}" in local else f"{rng.choice(_VN_NAME_PREFIXES)}{local} {brand}"
            form = rng.choices(("Công ty TNHH", "Công ty CP", "Công ty Cổ phần"), (50, 35, 15))[0]
            name = f"{form} {core}"
        else:
            name = f"{english_name} {rng.choice(('JSC', 'Co., Ltd.', 'Corporation', 'JSC', 'Co., Ltd.'))}"
        return name, _slug(english_name)
    brand, brand_latin = rng.choice(_RU_BRANDS)
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
    gender = rng.choice("mf")
    family = rng.choices([f for f, _ in _VN_FAMILY], [w for _, w in _VN_FAMILY])[0]
    given = rng.choice(_VN_GIVEN[gender])
    name = f"{family} {rng.choice(_VN_MIDDLE[gender])} {given}"
    email = f"{_slug(given)}.{_slug(family)}@{domain}"
    if rng.random() < 0.3:
        phone = f"+84 9{rng.randint(0, 9)} {_digits(rng, 3)} {_digits(rng, 4)}"
    elif len(city.area) == 2:  # Hanoi and Ho Chi Minh City have 8-digit subscriber numbers
        phone = f"+84 {city.area} {rng.choice('36')}{_digits(rng, 3)} {_digits(rng, 4)}"
    else:
        phone = f"+84 {city.area} {rng.choice('36')}{_digits(rng, 2)} {_digits(rng, 4)}"
    return name, email, phone


def _ru_contact(rng: random.Random, city: _City, domain: str, cyrillic: bool) -> tuple[str, str, str]:
    gender = rng.choice("mf")
    given, given_latin = rng.choice(_RU_GIVEN[gender])
    surname, surname_latin = rng.choice(_RU_SURNAMES)
    if gender == "f":
        surname, surname_latin = surname + "а", surname_latin + "a"
    patronymic = rng.choice(_RU_PATRONYMICS)[gender == "f"]
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
            text = f"{text} {rng.choice(_MIX_TAILS[direction])}"
        cooperation = tuple(rng.sample(forms, rng.randint(1, min(2, len(forms)))))
        result.append(GeneratedListing(direction, kind, text, cooperation))
    return result


def _profile(rng: random.Random, index: int, country: str) -> Profile:
    role = rng.choice(ROLES[country])
    languages, weights = zip(*_TEXT_LANGUAGES[country])
    text_lang = rng.choices(languages, weights)[0]
    vocab_lang = "vi" if text_lang == "mix" else text_lang

    city_key = rng.choice(role.cities if role.cities and rng.random() < 0.8 else _MAIN_CITIES[country])
    city = _CITIES[country][city_key]

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
