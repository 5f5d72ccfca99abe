"""Template tags for the engagements parts of other pages (the city page's section)."""

from django import template

from engagements import selectors
from engagements.models import Engagement, Participation, TARequest

register = template.Library()

TIMELINE_PAGE_PARAM = "timeline_page"

_TA_STATUS_CLASSES = {
    TARequest.Status.RECEIVED: "text-bg-secondary",
    TARequest.Status.ACCEPTED: "text-bg-info",
    TARequest.Status.IN_PROGRESS: "text-bg-primary",
    TARequest.Status.DELIVERED: "text-bg-success",
    TARequest.Status.CLOSED: "text-bg-dark",
    TARequest.Status.DECLINED: "text-bg-danger",
}

_PARTICIPATION_STATUS_CLASSES = {
    Participation.Status.PLANNED: "text-bg-light border",
    Participation.Status.CONFIRMED: "text-bg-info",
    Participation.Status.ATTENDED: "text-bg-success",
    Participation.Status.CANCELLED: "text-bg-secondary",
}

_KIND_ICONS = {
    Engagement.Kind.MEETING: "bi-people",
    Engagement.Kind.CALL: "bi-telephone",
    Engagement.Kind.EMAIL: "bi-envelope",
    Engagement.Kind.DIALOGUE: "bi-globe2",
    Engagement.Kind.WORKSHOP: "bi-easel",
    Engagement.Kind.SITE_VISIT: "bi-geo-alt",
    Engagement.Kind.OTHER: "bi-chat-dots",
}


@register.filter
def ta_status_class(status):
    """Bootstrap badge classes for a TA request status."""
    return _TA_STATUS_CLASSES.get(status, "text-bg-secondary")


@register.filter
def participation_status_class(status):
    return _PARTICIPATION_STATUS_CLASSES.get(status, "text-bg-secondary")


@register.filter
def engagement_icon(kind):
    return _KIND_ICONS.get(kind, "bi-chat-dots")


@register.inclusion_tag("engagements/_timeline.html", takes_context=True)
def city_timeline(context, city):
    """The city's timeline, paged by ``?timeline_page=`` so other parameters stay untouched."""
    request = context["request"]
    page, entries = selectors.city_timeline(city, request.GET.get(TIMELINE_PAGE_PARAM))
    return {
        "request": request,
        "city": city,
        "page": page,
        "entries": entries,
        "page_param": TIMELINE_PAGE_PARAM,
        "perms": context.get("perms"),
    }


@register.inclusion_tag("engagements/_city_participations.html", takes_context=True)
def city_participations(context, city):
    participations, total = selectors.city_participations(city)
    return {
        "request": context["request"],
        "city": city,
        "participations": participations,
        "total": total,
        "perms": context.get("perms"),
    }
