"""The home page. It only gathers figures the apps compute; no business rule lives in config."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from companies.selectors import directory_figures
from matchmaking.selectors import introduction_figures
from seeds.selectors import articles_by_file, trade_figures


def home(request: HttpRequest) -> HttpResponse:
    figures = trade_figures()
    return render(
        request,
        "home.html",
        {
            "directory": directory_figures(),
            "introductions": introduction_figures(),
            "trade_figures": figures,
            # The source column names each figure's article: read them all at once, not once per row.
            "articles": articles_by_file() if figures else {},
        },
    )
