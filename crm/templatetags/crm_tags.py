from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_link(context, field, label, param="o"):
    """A column header that sorts by ``field``, toggling the direction, keeping the filters."""
    request = context["request"]
    current = request.GET.get(param, "")
    descending = current == field
    query = request.GET.copy()
    query[param] = f"-{field}" if descending else field
    query.pop("page", None)
    arrow = ""
    if current == field:
        arrow = " ▲"
    elif current == f"-{field}":
        arrow = " ▼"
    return format_html('<a href="?{}" class="sort-link">{}{}</a>', query.urlencode(), label, arrow)


@register.filter
def verbose_name(obj):
    return obj._meta.verbose_name
