"""The home page. It only gathers figures the apps compute; no business rule lives in config."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from companies.selectors import directory_figures, trade_figures
from matchmaking.selectors import introduction_figures


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "home.html",
        {
            "directory": directory_figures(),
            "introductions": introduction_figures(),
            "trade_figures": trade_figures(),
        },
    )
