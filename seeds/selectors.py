"""Reads of the facts taken from the articles: the home page's trade figures and what each article gave."""

from django.db.models import F

from companies.models import Company, Organisation, Source
from seeds.models import Article, ArticleEvent, TradeFigure


def trade_figures() -> list[TradeFigure]:
    """Vietnam–Russia trade figures as the articles report them, latest period first."""
    return list(TradeFigure.objects.order_by(F("period_end").desc(nulls_last=True), "flow", "kind", "pk"))


def articles_by_file() -> dict[str, Article]:
    """Every article by its file name: one query for a page that names several sources."""
    return {article.file: article for article in Article.objects.all()}


def article_facts(article: Article) -> dict[str, list]:
    """What the service took from one article: organisations, published firms, events and trade figures."""
    return {
        "organisations": list(Organisation.objects.filter(source_article=article.file).order_by("country", "name")),
        "companies": list(
            Company.objects.shown_to_others()
            .filter(source=Source.ARTICLE, source_ref=article.file)
            .order_by("name", "pk")
        ),
        "events": list(ArticleEvent.objects.filter(source_article=article.file).prefetch_related("organisers")),
        "trade_figures": list(
            TradeFigure.objects.filter(source_article=article.file).order_by(
                F("period_end").asc(nulls_last=True), "flow"
            )
        ),
    }
