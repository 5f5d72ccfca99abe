from django import template
from django.utils import timezone
from django.utils.html import format_html

from cities.models import City

register = template.Library()

_STATUS_STYLE = {
    City.Status.PROSPECT: "text-bg-light border",
    City.Status.ENGAGED: "text-bg-info",
    City.Status.PARTNER: "text-bg-success",
    City.Status.FORMER: "text-bg-secondary",
}


@register.simple_tag
def city_status_badge(city):
    """The city's partnership status as a coloured badge."""
    style = _STATUS_STYLE.get(city.status, "text-bg-light")
    return format_html('<span class="badge {}">{}</span>', style, city.get_status_display())


@register.filter
def days_until(day, since=None):
    """Days from ``since`` (today by default) to ``day``."""
    if not day:
        return None
    return (day - (since or timezone.localdate())).days


@register.simple_tag
def outreach_state(contact):
    """Whether outreach emails can reach the contact, and if not, why."""
    if contact.unsubscribed_at:
        style, label = "text-bg-secondary", "Unsubscribed"
    elif not contact.email:
        style, label = "text-bg-light border", "No email"
    elif not contact.consent_to_outreach:
        style, label = "text-bg-light border", "No consent"
    else:
        style, label = "text-bg-success", "Can receive"
    return format_html('<span class="badge {}">{}</span>', style, label)
