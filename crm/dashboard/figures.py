"""The impact figures (what the impact report counts), each with the previous period's value
and the URL of the list it counts."""

import statistics
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from cities.models import City
from engagements.models import Engagement, Participation, PolicyOutcome, Process, TARequest
from pledges.models import Pledge

from .scope import (
    EngagementCities,
    contributions_in_scope,
    engagements_in_scope,
    in_period,
    list_url,
)


@dataclass
class Figure:
    key: str
    label: str
    value: int | float | None
    url: str
    previous: int | float | None = None
    previous_url: str = ""
    help: str = ""
    unit: str = ""

    @property
    def compares(self):
        return self.previous is not None

    @property
    def change(self):
        if self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, 1)


@dataclass
class Block:
    title: str
    figures: list = field(default_factory=list)


def impact_figures(period, scope, today=None):
    """The impact figures in blocks, each with the previous period's value where it applies."""
    today = today or timezone.localdate()
    prev = period.previous()
    where = scope.params()

    # Cities: network size now, and cities with an engagement in each period.
    partner_cities = scope.cities().filter(status=City.Status.PARTNER).count()

    # EXISTS per city stops at its first engagement in the period: far cheaper than
    # COUNT(DISTINCT city) over every engagement-city row.
    def engaged_in(p):
        return Exists(
            EngagementCities.objects.filter(city=OuterRef("pk"), engagement__date__range=p.range())
        )

    engaged = scope.cities().aggregate(
        current=Count("pk", filter=Q(engaged_in(period))),
        previous=Count("pk", filter=Q(engaged_in(prev))),
    )

    dialogues = (
        engagements_in_scope(scope)
        .filter(kind=Engagement.Kind.DIALOGUE, date__range=(prev.start, period.end))
        .aggregate(
            current=Count("pk", filter=in_period(period, "date")),
            previous=Count("pk", filter=in_period(prev, "date")),
        )
    )
    contributions = (
        contributions_in_scope(scope)
        .filter(date__range=(prev.start, period.end))
        .aggregate(
            current=Count("pk", filter=in_period(period, "date")),
            previous=Count("pk", filter=in_period(prev, "date")),
        )
    )
    processes = (
        Participation.objects.filter(scope.city_q("city__"))
        .filter(event__start_date__range=(prev.start, period.end))
        .aggregate(
            current=Count(
                "event__process", distinct=True, filter=in_period(period, "event__start_date")
            ),
            previous=Count(
                "event__process", distinct=True, filter=in_period(prev, "event__start_date")
            ),
        )
    )
    # Outcomes are global positions, not tied to a city: the region/network filter does not apply.
    outcomes = PolicyOutcome.objects.filter(date__range=(prev.start, period.end)).aggregate(
        current=Count("pk", filter=in_period(period, "date")),
        previous=Count("pk", filter=in_period(prev, "date")),
    )
    pledges = Pledge.objects.filter(scope.city_q("city__")).aggregate(
        made=Count("pk", filter=in_period(period, "announced_on")),
        made_before=Count("pk", filter=in_period(prev, "announced_on")),
        in_progress=Count("pk", filter=Q(status=Pledge.Status.IN_PROGRESS)),
        achieved=Count("pk", filter=Q(status=Pledge.Status.ACHIEVED)),
    )
    ta = TARequest.objects.filter(scope.city_q("city__")).aggregate(
        received=Count("pk", filter=in_period(period, "received_on")),
        received_before=Count("pk", filter=in_period(prev, "received_on")),
        delivered=Count("pk", filter=in_period(period, "delivered_on")),
        delivered_before=Count("pk", filter=in_period(prev, "delivered_on")),
        overdue=Count("pk", filter=Q(status__in=TARequest.OPEN_STATUSES, due_date__lt=today)),
    )
    delivery_days = {period: [], prev: []}
    for received_on, delivered_on in (
        TARequest.objects.filter(scope.city_q("city__"))
        .filter(delivered_on__range=(prev.start, period.end))
        .values_list("received_on", "delivered_on")
    ):
        which = period if delivered_on >= period.start else prev
        delivery_days[which].append((delivered_on - received_on).days)

    def median(values):
        return round(statistics.median(values), 1) if values else None

    def figure(key, label, values, url_name, params, help="", unit=""):
        current, previous = values
        return Figure(
            key=key,
            label=label,
            value=current,
            url=list_url(url_name, **params(period), **where),
            previous=previous,
            previous_url=list_url(url_name, **params(prev), **where)
            if previous is not None
            else "",
            help=help,
            unit=unit,
        )

    def now(key, label, value, url_name, help="", **params):
        return Figure(key, label, value, list_url(url_name, **params, **where), help=help)

    outcome_url = list_url("engagements:outcome_list", **period.params("date"))
    outcome_prev_url = list_url("engagements:outcome_list", **prev.params("date"))
    processes_help = "Distinct processes (IMRF, GFMD, COP…) with a city at one of their events."
    return [
        Block(
            "Network",
            [
                now(
                    "partner_cities",
                    "Partner cities",
                    partner_cities,
                    "cities:city_list",
                    help="Network size today.",
                    status=City.Status.PARTNER,
                ),
                figure(
                    "cities_engaged",
                    "Cities engaged",
                    (engaged["current"], engaged["previous"]),
                    "cities:city_list",
                    lambda p: p.params("engaged"),
                    help="Cities with at least one engagement in the period.",
                ),
            ],
        ),
        Block(
            "Global advocacy",
            [
                figure(
                    "dialogues",
                    "Global dialogues",
                    (dialogues["current"], dialogues["previous"]),
                    "engagements:engagement_list",
                    lambda p: {"kind": Engagement.Kind.DIALOGUE, **p.params("date")},
                ),
                figure(
                    "contributions",
                    "City policy contributions",
                    (contributions["current"], contributions["previous"]),
                    "engagements:contribution_list",
                    lambda p: p.params("date"),
                ),
                figure(
                    "processes",
                    "Multilateral processes accessed",
                    (processes["current"], processes["previous"]),
                    "crm:dashboard_processes",
                    lambda p: {"start": p.start.isoformat(), "end": p.end.isoformat()},
                    help=processes_help,
                ),
                Figure(
                    "outcomes",
                    "Policy positions influenced",
                    outcomes["current"],
                    outcome_url,
                    previous=outcomes["previous"],
                    previous_url=outcome_prev_url,
                    help="Global positions, counted for all regions and networks.",
                ),
            ],
        ),
        Block(
            "Pledges",
            [
                figure(
                    "pledges_made",
                    "Pledges made",
                    (pledges["made"], pledges["made_before"]),
                    "pledges:pledge_list",
                    lambda p: p.params("announced_on"),
                ),
                now(
                    "pledges_in_progress",
                    "In progress",
                    pledges["in_progress"],
                    "pledges:pledge_list",
                    help="All pledges in progress today.",
                    status=Pledge.Status.IN_PROGRESS,
                ),
                now(
                    "pledges_achieved",
                    "Achieved",
                    pledges["achieved"],
                    "pledges:pledge_list",
                    help="All pledges achieved to date.",
                    status=Pledge.Status.ACHIEVED,
                ),
            ],
        ),
        Block(
            "Technical assistance",
            [
                figure(
                    "ta_received",
                    "TA requests received",
                    (ta["received"], ta["received_before"]),
                    "engagements:ta_list",
                    lambda p: p.params("received_on"),
                ),
                figure(
                    "ta_delivered",
                    "TA requests delivered",
                    (ta["delivered"], ta["delivered_before"]),
                    "engagements:ta_list",
                    lambda p: p.params("delivered_on"),
                ),
                now(
                    "ta_overdue",
                    "TA requests overdue",
                    ta["overdue"],
                    "engagements:ta_list",
                    help="Open requests past their due date, today.",
                    overdue="true",
                ),
                figure(
                    "ta_median_days",
                    "Median days to deliver",
                    (median(delivery_days[period]), median(delivery_days[prev])),
                    "engagements:ta_list",
                    lambda p: p.params("delivered_on"),
                    help="From received to delivered, for requests delivered in the period.",
                    unit="days",
                ),
            ],
        ),
    ]


def processes_accessed(period, scope):
    """The processes behind the "processes accessed" figure: one row per process."""
    rows = (
        Participation.objects.filter(scope.city_q("city__"))
        .filter(event__start_date__range=period.range())
        .values("event__process")
        .annotate(
            events=Count("event", distinct=True),
            cities=Count("city", distinct=True),
            participations=Count("pk"),
        )
        .order_by("event__process")
    )
    where = scope.params()
    return [
        {
            "process": row["event__process"],
            "label": Process(row["event__process"]).label,
            "events": row["events"],
            "cities": row["cities"],
            "participations": row["participations"],
            "participations_url": list_url(
                "engagements:participation_list",
                process=row["event__process"],
                **period.params("event_start"),
                **where,
            ),
        }
        for row in rows
    ]
