"""The per-city scorecard section of the city page (``crm/_city_scorecard.html``)."""

from django import template

from crm.dashboard.scorecard import city_scorecard

register = template.Library()


@register.simple_tag
def scorecard_for(city):
    """The scorecard figures for ``city``: a fixed number of queries whatever its history."""
    return city_scorecard(city)
