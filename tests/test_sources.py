"""Article sources are named by title and date, linking to a page of what the service took from each article."""

import pytest
from django.urls import reverse
from django.utils import translation

from companies.models import Company, Organisation
from seeds.loader import load_seeds
from seeds.models import Article, TradeFigure
from tests.test_pages_public import page_text

pytestmark = pytest.mark.django_db

FILE = "004_272e0d2ba911b024.txt"


@pytest.fixture
def seeded():
    load_seeds()


def test_every_article_file_is_seeded_with_a_title_in_three_languages_and_a_date(seeded, shared_dir):
    files = {p.name for p in (shared_dir / "articles").iterdir()}
    articles = Article.objects.all()
    assert {a.file for a in articles} == files
    for article in articles:
        assert article.title and article.title_vi and article.title_ru and article.date
    # Every fact names an article that has a page.
    named = set(TradeFigure.objects.values_list("source_article", flat=True))
    named |= set(Organisation.objects.exclude(source_article="").values_list("source_article", flat=True))
    assert named <= files


def test_home_names_a_figures_source_by_title_and_date_with_a_link_not_by_file_name(client, seeded):
    article = Article.objects.get(file=FILE)
    body = client.get(reverse("home")).content.decode()
    link = f'href="{reverse("source-article", args=[FILE])}"'
    assert link in body
    text = page_text(client.get(reverse("home")))
    assert f"{article.title} (December 2024)" in text
    assert FILE not in text and "{" not in text  # no template syntax left in the page


def test_home_source_follows_the_readers_language(client, seeded):
    article = Article.objects.get(file=FILE)
    text = page_text(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="ru"))
    assert article.title_ru in text and article.title not in text


def test_source_page_shows_title_date_file_and_the_facts_taken_from_the_article(client, seeded):
    response = client.get(reverse("source-article", args=[FILE]))
    assert response.status_code == 200
    text = page_text(response)
    assert "Vietnam–Russia cooperation in 2024" in text and "December 2024" in text and FILE in text
    assert "Trade Representation of the Russian Federation in Vietnam" in text  # an organisation
    assert "GAZ" in text and "Vietsovpetro" in text  # firms
    assert "4,150" in text and "Mainly coal, fertilisers and seafood." in text  # trade figures and their notes
    gaz = Company.objects.get(external_id="article-gaz")
    assert f'href="{reverse("directory-company", args=[gaz.pk])}"' in response.content.decode()
    assert "AlkorBio" not in text  # from another article


def test_source_page_in_vietnamese_names_organisations_and_notes_in_vietnamese(client, seeded):
    url = reverse("source-article", args=["000_6ac39ebf8d94dca2.txt"])
    text = page_text(client.get(url, HTTP_ACCEPT_LANGUAGE="vi"))
    assert "Phòng Thương mại và Công nghiệp Việt Nam (VCCI)" in text
    assert "Khoảng 0,5% kim ngạch ngoại thương của Nga." in text


def test_unknown_source_is_not_found(client, seeded):
    assert client.get(reverse("source-article", args=["999_nothing.txt"])).status_code == 404


def test_source_list_links_every_article(client, seeded):
    body = client.get(reverse("sources")).content.decode()
    for article in Article.objects.all():
        assert f'href="{article.get_absolute_url()}"' in body


def test_article_date_is_shown_as_precisely_as_the_article_gives_it(seeded):
    with translation.override("en"):
        assert Article.objects.get(file="001_8521ba710f779f37.txt").date_label == "2019"
        assert Article.objects.get(file="000_6ac39ebf8d94dca2.txt").label.endswith("(October 2014)")
        assert Article.objects.get(file="002_e2ee23f802293e3b.txt").date_label == "about 2014"


def test_home_trade_table_names_a_figure_without_period_as_reported_in_its_year(client, seeded):
    text = page_text(client.get(reverse("home")))
    assert "as reported in 2019" in text
    assert "Approximate; Russia ranked 24th among Vietnam's trade partners." in text


def test_home_trade_notes_follow_the_readers_language(client, seeded):
    text = page_text(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="ru"))
    assert "В основном уголь, удобрения и морепродукты." in text
    assert "Mainly coal" not in text
