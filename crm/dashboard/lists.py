"""The dashboard's lists: most / least engaged partner cities, overdue work per owner, board seats
ending soon, upcoming events with their delegations."""

import datetime

from django.db.models import Count, Prefetch, Q
from django.urls import reverse
from django.utils import timezone

from cities.models import BoardSeat, City, MayoralTerm
from engagements.models import Event, Participation, TARequest

from .scope import engagements_in_scope, list_url

ENGAGED_CITIES_SHOWN = 10
BOARD_SEATS_ENDING_DAYS = 120
UPCOMING_EVENTS = 6


def engaged_partner_cities(period, scope, limit=ENGAGED_CITIES_SHOWN):
    """The most and least engaged partner cities in the period (one query, sorted here)."""
    cities = list(
        scope.cities()
        .filter(status=City.Status.PARTNER)
        .annotate(n=Count("engagements", filter=Q(engagements__date__range=period.range())))
        .values("pk", "name", "country__name", "n")
        .order_by()
    )
    for city in cities:
        city["url"] = reverse("cities:city_detail", args=[city["pk"]])
        city["engagements_url"] = list_url(
            "engagements:engagement_list", city=city["pk"], **period.params("date")
        )
    most = sorted(cities, key=lambda c: (-c["n"], c["name"], c["pk"]))[:limit]
    shown = {c["pk"] for c in most}
    least = [
        c
        for c in sorted(cities, key=lambda c: (c["n"], c["name"], c["pk"]))
        if c["pk"] not in shown
    ][:limit]
    return {"most": most, "least": least}


def overdue_by_owner(scope, today=None):
    """Overdue follow-ups and TA requests per owner, each count linking to its list."""
    today = today or timezone.localdate()
    people = ("owner_id", "owner__first_name", "owner__last_name", "owner__username")
    followups = (
        engagements_in_scope(scope)
        .filter(follow_up_done=False, follow_up_date__lt=today)
        .values(*people)
        .annotate(n=Count("pk"))
        .order_by()
    )
    requests = (
        TARequest.objects.filter(scope.city_q("city__"))
        .filter(status__in=TARequest.OPEN_STATUSES, due_date__lt=today)
        .values(*people)
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows = {}

    def row_for(values):
        owner_id = values["owner_id"]
        if owner_id not in rows:
            name = f"{values['owner__first_name']} {values['owner__last_name']}".strip()
            rows[owner_id] = {
                "owner_id": owner_id,
                "name": name or values["owner__username"] or "Unassigned",
                "followups": 0,
                "ta": 0,
                "followups_url": "",
                "ta_url": "",
            }
        return rows[owner_id]

    where = scope.params()
    for values in followups:
        row = row_for(values)
        row["followups"] = values["n"]
        row["followups_url"] = list_url(
            "engagements:engagement_list", follow_up="overdue", owner=values["owner_id"], **where
        )
    for values in requests:
        row = row_for(values)
        row["ta"] = values["n"]
        if values["owner_id"]:  # the list cannot filter "no owner"
            row["ta_url"] = list_url(
                "engagements:ta_list", overdue="true", owner=values["owner_id"], **where
            )
    return sorted(rows.values(), key=lambda r: (-(r["followups"] + r["ta"]), r["name"]))


def board_seats_ending(today=None, days=BOARD_SEATS_ENDING_DAYS):
    """Leadership Board seats ending in the coming months, with the mayor's current city."""
    today = today or timezone.localdate()
    current_terms = MayoralTerm.objects.current().select_related("city")
    return list(
        BoardSeat.objects.filter(
            start_date__lte=today, end_date__range=(today, today + datetime.timedelta(days=days))
        )
        .select_related("mayor")
        .prefetch_related(Prefetch("mayor__terms", current_terms, to_attr="current_terms"))
        .order_by("end_date", "pk")
    )


def upcoming_events(scope, today=None, limit=UPCOMING_EVENTS):
    """The next events, each with its delegation (cities in scope, not cancelled)."""
    today = today or timezone.localdate()
    delegation = (
        Participation.objects.filter(scope.city_q("city__"))
        .exclude(status=Participation.Status.CANCELLED)
        .select_related("city", "mayor", "contact")
        .order_by("city__name", "pk")
    )
    return list(
        Event.objects.filter(start_date__gte=today)
        .order_by("start_date", "pk")
        .prefetch_related(Prefetch("participations", delegation, to_attr="delegation"))[:limit]
    )
