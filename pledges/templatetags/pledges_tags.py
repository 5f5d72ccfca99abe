from django import template

from ..models import Pledge

register = template.Library()

STATUS_COLOURS = {
    Pledge.Status.ANNOUNCED: "secondary",
    Pledge.Status.IN_PROGRESS: "primary",
    Pledge.Status.ACHIEVED: "success",
    Pledge.Status.STALLED: "warning",
    Pledge.Status.WITHDRAWN: "dark",
}

# The city page shows this many pledges, then links to the filtered list for the rest.
CITY_SECTION_LIMIT = 10


@register.filter
def status_colour(status):
    return STATUS_COLOURS.get(status, "secondary")


@register.inclusion_tag("pledges/_progress.html")
def progress_bar(percent, status=""):
    return {"percent": percent or 0, "colour": STATUS_COLOURS.get(status, "primary")}


@register.simple_tag
def city_pledges(city):
    """The city's pledges for its page, newest first, in two queries (pledges, frameworks):
    {"pledges": [...], "total": n}."""
    pledges = list(
        city.pledges.select_related("event")
        .prefetch_related("frameworks")
        .order_by("-announced_on", "-pk")[: CITY_SECTION_LIMIT + 1]
    )
    total = len(pledges)
    if total > CITY_SECTION_LIMIT:
        total = city.pledges.count()
    return {"pledges": pledges[:CITY_SECTION_LIMIT], "total": total}
