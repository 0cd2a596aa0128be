"""``{{ file|source_link }}``: names an article the service took facts from as "Title (date)", linking to its page."""

from django import template
from django.utils.html import format_html

from seeds.models import Article

register = template.Library()


@register.filter
def source_link(value: "Article | str", articles: dict[str, Article] | None = None) -> str:
    """An article, or an article's file name, as a link to its page.

    ``articles`` (file name → article, from ``seeds.selectors.articles_by_file``) spares a query per row on pages
    that name many sources. A file without an Article row stays as its name: nothing to link to.
    """
    if not value:
        return ""
    if isinstance(value, Article):
        article = value
    elif articles is not None:
        article = articles.get(value)
    else:
        article = Article.objects.filter(file=value).first()
    if article is None:
        return format_html("{}", value)
    return format_html('<a href="{}" class="source">{}</a>', article.get_absolute_url(), article.label)
