"""Public pages of the articles the service took its facts from."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from seeds import selectors
from seeds.models import Article


def source_list(request: HttpRequest) -> HttpResponse:
    return render(request, "seeds/source_list.html", {"articles": Article.objects.order_by("-date", "file")})


def source_article(request: HttpRequest, file: str) -> HttpResponse:
    article = get_object_or_404(Article, file=file)
    return render(request, "seeds/source_article.html", {"article": article, **selectors.article_facts(article)})
