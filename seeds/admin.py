from django.contrib import admin

from seeds.models import Article, ArticleEvent, TradeFigure


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["file", "title", "date", "date_precision", "date_approximate", "publisher"]
    search_fields = ["file", "title", "title_vi", "title_ru"]


@admin.register(ArticleEvent)
class ArticleEventAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "city", "date", "year", "approx_participants", "source_article"]
    list_filter = ["kind", "year"]
    search_fields = ["name", "city", "summary"]
    filter_horizontal = ["organisers", "companies"]


@admin.register(TradeFigure)
class TradeFigureAdmin(admin.ModelAdmin):
    list_display = ["period", "flow", "kind", "value_usd_million", "growth_percent", "source_article"]
    list_filter = ["flow", "kind", "source_article"]
