"""The manager dashboard's figures and the city scorecard, as selector functions.

Every figure is a count the lists can reproduce: each carries the URL of the list it counts,
built with the list filters' parameter names (CONTRIBUTING.md), and tests check that the list's
count equals the figure. Counting rules therefore mirror the list filters exactly:

- a many-to-many to City (an engagement's cities, a contribution's signers) is filtered with a
  ``pk__in`` subquery on the through table, so a record with two matching cities counts once;
- region and network always go through the city;
- "overdue" means due before today and still open, as in the lists.

The dashboard runs a fixed number of queries whatever the data size: aggregates with
``filter=Q(...)`` count the current and the previous period in one pass, group-bys feed the charts.
"""

import datetime
import io
import logging
import statistics
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.cache import caches
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.db.models.functions import ExtractYear, TruncMonth
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.urls import reverse
from django.utils import timezone

from cities.models import BoardSeat, City, CityNetwork, Country, MayoralTerm
from engagements.models import (
    Engagement,
    Event,
    Participation,
    PolicyContribution,
    PolicyOutcome,
    Process,
    TARequest,
)
from pledges.models import Framework, Pledge

EngagementCities = Engagement.cities.through
ContributionCities = PolicyContribution.cities.through
PledgeFrameworks = Pledge.frameworks.through

logger = logging.getLogger(__name__)

BOARD_SEATS_ENDING_DAYS = 120
UPCOMING_EVENTS = 6
ENGAGED_CITIES_SHOWN = 10


def list_url(url_name, **params):
    """A list page's URL with its filter parameters (empty ones left out)."""
    query = {key: value for key, value in params.items() if value not in ("", None)}
    url = reverse(url_name)
    return f"{url}?{urlencode(query, doseq=True)}" if query else url


# --- Period and scope ------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date

    @classmethod
    def year(cls, year):
        return cls(datetime.date(year, 1, 1), datetime.date(year, 12, 31))

    @classmethod
    def this_year(cls, today=None):
        return cls.year((today or timezone.localdate()).year)

    @property
    def days(self):
        return (self.end - self.start).days + 1

    @property
    def is_calendar_year(self):
        return (
            self.start.year == self.end.year
            and (self.start.month, self.start.day) == (1, 1)
            and (self.end.month, self.end.day) == (12, 31)
        )

    def previous(self):
        """The period of equal length just before; a calendar year compares with the last one
        (whose length differs by a day in leap years)."""
        if self.is_calendar_year:
            return Period.year(self.start.year - 1)
        end = self.start - datetime.timedelta(days=1)
        return Period(end - datetime.timedelta(days=self.days - 1), end)

    def range(self):
        return (self.start, self.end)

    def params(self, name):
        """The list filter parameters of a DateFromToRange filter called ``name``."""
        return {f"{name}_after": self.start.isoformat(), f"{name}_before": self.end.isoformat()}

    def __str__(self):
        if self.is_calendar_year:
            return str(self.start.year)
        return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"


@dataclass(frozen=True)
class Scope:
    """The optional region / network the dashboard is narrowed to, always through the city."""

    region: str = ""
    network: CityNetwork | None = None

    @property
    def is_all(self):
        return not self.region and self.network is None

    def city_q(self, path=""):
        """Q matching cities in scope; ``path`` is the lookup to the city (``"city__"``)."""
        q = Q()
        if self.region:
            q &= Q(**{f"{path}country__region": self.region})
        if self.network is not None:
            q &= Q(**{f"{path}networks": self.network})
        return q

    def cities(self):
        return City.objects.filter(self.city_q())

    def through_filter(self, queryset, through, fk_name):
        """``queryset`` narrowed to records with a city in scope, via a through table."""
        if self.is_all:
            return queryset
        ids = through.objects.filter(self.city_q("city__")).values(fk_name)
        return queryset.filter(pk__in=ids)

    def params(self):
        return {"region": self.region, "network": self.network.pk if self.network else ""}

    def __str__(self):
        parts = []
        if self.region:
            parts.append(Country.Region(self.region).label)
        if self.network is not None:
            parts.append(str(self.network))
        return " · ".join(parts) or "All cities"


# --- Figures ---------------------------------------------------------------------------------


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


def _engagements(scope):
    return scope.through_filter(Engagement.objects.all(), EngagementCities, "engagement_id")


def _contributions(scope):
    return scope.through_filter(
        PolicyContribution.objects.all(), ContributionCities, "policycontribution_id"
    )


def _in(period, lookup):
    return Q(**{f"{lookup}__range": period.range()})


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
        _engagements(scope)
        .filter(kind=Engagement.Kind.DIALOGUE, date__range=(prev.start, period.end))
        .aggregate(
            current=Count("pk", filter=_in(period, "date")),
            previous=Count("pk", filter=_in(prev, "date")),
        )
    )
    contributions = (
        _contributions(scope)
        .filter(date__range=(prev.start, period.end))
        .aggregate(
            current=Count("pk", filter=_in(period, "date")),
            previous=Count("pk", filter=_in(prev, "date")),
        )
    )
    processes = (
        Participation.objects.filter(scope.city_q("city__"))
        .filter(event__start_date__range=(prev.start, period.end))
        .aggregate(
            current=Count("event__process", distinct=True, filter=_in(period, "event__start_date")),
            previous=Count("event__process", distinct=True, filter=_in(prev, "event__start_date")),
        )
    )
    # Outcomes are global positions, not tied to a city: the region/network filter does not apply.
    outcomes = PolicyOutcome.objects.filter(date__range=(prev.start, period.end)).aggregate(
        current=Count("pk", filter=_in(period, "date")),
        previous=Count("pk", filter=_in(prev, "date")),
    )
    pledges = Pledge.objects.filter(scope.city_q("city__")).aggregate(
        made=Count("pk", filter=_in(period, "announced_on")),
        made_before=Count("pk", filter=_in(prev, "announced_on")),
        in_progress=Count("pk", filter=Q(status=Pledge.Status.IN_PROGRESS)),
        achieved=Count("pk", filter=Q(status=Pledge.Status.ACHIEVED)),
    )
    ta = TARequest.objects.filter(scope.city_q("city__")).aggregate(
        received=Count("pk", filter=_in(period, "received_on")),
        received_before=Count("pk", filter=_in(prev, "received_on")),
        delivered=Count("pk", filter=_in(period, "delivered_on")),
        delivered_before=Count("pk", filter=_in(prev, "delivered_on")),
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


# --- Charts ----------------------------------------------------------------------------------


def _months(period):
    months, day = [], period.start.replace(day=1)
    while day <= period.end:
        months.append(day)
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return months


def engagements_by_month(period, scope):
    """Engagements per month and kind: {"months": [...], "series": [{kind, label, counts}]}."""
    rows = (
        _engagements(scope)
        .filter(date__range=period.range())
        .annotate(month=TruncMonth("date"))
        .values("month", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = defaultdict(int)
    for row in rows:
        month = row["month"]
        if isinstance(month, datetime.datetime):
            month = month.date()
        counts[(month, row["kind"])] = row["n"]
    months = _months(period)
    series = [
        {"kind": kind, "label": label, "counts": [counts[(m, kind)] for m in months]}
        for kind, label in Engagement.Kind.choices
    ]
    series = [s for s in series if any(s["counts"])]
    labels = [m.strftime("%b %Y") for m in months]
    totals = [sum(counts[(m, kind)] for kind in Engagement.Kind.values) for m in months]
    return {
        "months": labels,
        "series": series,
        "totals": totals,
        "rows": [
            {"month": label, "counts": [s["counts"][i] for s in series], "total": totals[i]}
            for i, label in enumerate(labels)
        ],
    }


def engagements_by_region(period, scope):
    """Engagements in the period per region of their cities (one with cities in two regions
    counts in both), each linking to the engagement list for that region."""
    rows = (
        EngagementCities.objects.filter(scope.city_q("city__"))
        .filter(engagement__date__range=period.range())
        .values("city__country__region")
        .annotate(n=Count("engagement_id", distinct=True))
        .order_by()
    )
    counts = {row["city__country__region"]: row["n"] for row in rows}
    network = scope.network.pk if scope.network else ""
    return [
        {
            "region": region,
            "label": label,
            "count": counts.get(region, 0),
            "url": list_url(
                "engagements:engagement_list",
                **period.params("date"),
                region=region,
                network=network,
            ),
        }
        for region, label in Country.Region.choices
        if not scope.region or scope.region == region
    ]


def pledges_by_framework(scope):
    """Pledge status per framework, all pledges to date (a pledge may serve several)."""
    rows = (
        PledgeFrameworks.objects.filter(scope.city_q("pledge__city__"))
        .values("framework_id", "pledge__status")
        .annotate(n=Count("pledge_id"))
        .order_by()
    )
    counts = defaultdict(dict)
    for row in rows:
        counts[row["framework_id"]][row["pledge__status"]] = row["n"]
    frameworks = Framework.objects.filter(pk__in=list(counts)) if counts else []
    where = scope.params()
    table = []
    for framework in frameworks:
        cells = [
            {
                "status": status,
                "count": counts[framework.pk].get(status, 0),
                "url": list_url(
                    "pledges:pledge_list", framework=framework.pk, status=status, **where
                ),
            }
            for status in Pledge.Status.values
        ]
        table.append(
            {
                "framework": framework,
                "label": str(framework),
                "cells": cells,
                "total": sum(c["count"] for c in cells),
                "url": list_url("pledges:pledge_list", framework=framework.pk, **where),
            }
        )
    return {"statuses": Pledge.Status.choices, "rows": table}


def ta_pipeline(period, scope):
    """TA requests received in the period, by where they are now."""
    rows = (
        TARequest.objects.filter(scope.city_q("city__"))
        .filter(received_on__range=period.range())
        .values("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {row["status"]: row["n"] for row in rows}
    where = scope.params()
    return [
        {
            "status": status,
            "label": label,
            "count": counts.get(status, 0),
            "url": list_url(
                "engagements:ta_list", status=status, **period.params("received_on"), **where
            ),
        }
        for status, label in TARequest.Status.choices
    ]


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


# --- Lists -----------------------------------------------------------------------------------


def overdue_by_owner(scope, today=None):
    """Overdue follow-ups and TA requests per owner, each count linking to its list."""
    today = today or timezone.localdate()
    people = ("owner_id", "owner__first_name", "owner__last_name", "owner__username")
    followups = (
        _engagements(scope)
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


@dataclass
class Dashboard:
    period: Period
    previous: Period
    scope: Scope
    blocks: list
    by_month: dict
    by_region: list
    by_framework: dict
    pipeline: list
    engaged_cities: dict
    overdue: list
    board_seats: list
    events: list
    computed_at: datetime.datetime = field(default_factory=timezone.now)
    cache_key: str = ""  # set when the figures come from (or went to) the cache

    @property
    def figures(self):
        return {figure.key: figure for block in self.blocks for figure in block.figures}

    @property
    def charts(self):
        """The four charts as Chart.js data (passed to the page with json_script). ``links``
        holds, per dataset and bar, the list a click opens."""
        statuses = self.by_framework["statuses"]
        framework_rows = self.by_framework["rows"]
        return {
            "month": {
                "labels": self.by_month["months"],
                "datasets": [
                    {"label": s["label"], "data": s["counts"]} for s in self.by_month["series"]
                ],
                "stacked": True,
            },
            "region": {
                "labels": [row["label"] for row in self.by_region],
                "datasets": [
                    {"label": "Engagements", "data": [row["count"] for row in self.by_region]}
                ],
                "links": [[row["url"] for row in self.by_region]],
                "horizontal": True,
            },
            "framework": {
                "labels": [row["label"] for row in framework_rows],
                "datasets": [
                    {"label": label, "data": [row["cells"][i]["count"] for row in framework_rows]}
                    for i, (_, label) in enumerate(statuses)
                ],
                "links": [
                    [row["cells"][i]["url"] for row in framework_rows] for i in range(len(statuses))
                ],
                "stacked": True,
                "horizontal": True,
            },
            "pipeline": {
                "labels": [row["label"] for row in self.pipeline],
                "datasets": [
                    {"label": "TA requests", "data": [row["count"] for row in self.pipeline]}
                ],
                "links": [[row["url"] for row in self.pipeline]],
            },
        }


def dashboard(period, scope, today=None):
    """Everything the dashboard shows, in a fixed number of queries."""
    today = today or timezone.localdate()
    return Dashboard(
        period=period,
        previous=period.previous(),
        scope=scope,
        blocks=impact_figures(period, scope, today),
        by_month=engagements_by_month(period, scope),
        by_region=engagements_by_region(period, scope),
        by_framework=pledges_by_framework(scope),
        pipeline=ta_pipeline(period, scope),
        engaged_cities=engaged_partner_cities(period, scope),
        overdue=overdue_by_owner(scope, today),
        board_seats=board_seats_ending(today),
        events=upcoming_events(scope, today),
    )


# --- Cache ----------------------------------------------------------------------------------
# The figures scan every engagement of two periods; on a few hundred thousand engagements that
# takes about a second. So a computed dashboard is kept in the shared cache (Redis in production)
# and reused until the data changes: any save or delete of a counted record, or a change of a
# many-to-many it counts through, moves the data version, which is part of every key. Bulk writes
# send no signals, so entries also expire after DASHBOARD_CACHE_SECONDS; the page shows when
# its figures were computed and offers a refresh.

VERSION_KEY = "dashboard:data-version"
COUNTED_MODELS = (
    "cities.City",
    "cities.Country",
    "cities.CityNetwork",
    "cities.Mayor",
    "cities.MayoralTerm",
    "cities.BoardSeat",
    "engagements.Engagement",
    "engagements.TARequest",
    "engagements.Event",
    "engagements.Participation",
    "engagements.PolicyContribution",
    "engagements.PolicyOutcome",
    "pledges.Framework",
    "pledges.Pledge",
    "crm.User",
)


def _cache():
    return caches[settings.DASHBOARD_CACHE]


def data_changed(**kwargs):
    # A cache outage must never block a save: the figures then refresh when entries expire.
    try:
        _cache().set(VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:
        logger.warning("Dashboard cache unreachable: figures may lag for a few minutes.")


def connect_invalidation():
    """Called from CrmConfig.ready(): any write to a counted record moves the data version."""
    from django.apps import apps

    for label in COUNTED_MODELS:
        model = apps.get_model(label)
        uid = f"dashboard-{label}"
        post_save.connect(data_changed, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(data_changed, sender=model, dispatch_uid=f"{uid}-delete")
    for through in (
        EngagementCities,
        ContributionCities,
        PledgeFrameworks,
        City.networks.through,
    ):
        m2m_changed.connect(data_changed, sender=through, dispatch_uid=f"dashboard-{through}")


def cached_dashboard(period, scope, today=None, refresh=False):
    """``dashboard()``, reused from the cache while the data is unchanged."""
    today = today or timezone.localdate()
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if not seconds:
        return dashboard(period, scope, today)
    cache = _cache()
    try:
        version = cache.get_or_set(VERSION_KEY, lambda: uuid.uuid4().hex, None)
        network = scope.network.pk if scope.network else ""
        key = f"dashboard:{version}:{today}:{period.start}:{period.end}:{scope.region}:{network}"
        data = None if refresh else cache.get(key)
    except Exception:
        logger.warning("Dashboard cache unreachable: computing the figures directly.")
        return dashboard(period, scope, today)
    if data is None:
        data = dashboard(period, scope, today)
        data.cache_key = key
        try:
            cache.set(key, data, seconds)
        except Exception:
            data.cache_key = ""
    return data


# --- City scorecard --------------------------------------------------------------------------


def city_scorecard(city, today=None):
    """One city's record at a glance: engagements per year, participations, pledges, TA."""
    today = today or timezone.localdate()
    per_year = list(
        EngagementCities.objects.filter(city=city)
        .annotate(year=ExtractYear("engagement__date"))
        .values("year")
        .annotate(
            n=Count("engagement_id"),
            dialogues=Count("engagement_id", filter=Q(engagement__kind=Engagement.Kind.DIALOGUE)),
        )
        .order_by("-year")
    )
    top = max((row["n"] for row in per_year), default=0)
    for row in per_year:
        year = Period.year(row["year"])
        row["percent"] = round(100 * row["n"] / top) if top else 0
        row["url"] = list_url("engagements:engagement_list", city=city.pk, **year.params("date"))

    participations = Participation.objects.filter(city=city).aggregate(
        total=Count("pk"),
        attended=Count("pk", filter=Q(status=Participation.Status.ATTENDED)),
        upcoming=Count(
            "pk",
            filter=Q(event__start_date__gte=today) & ~Q(status=Participation.Status.CANCELLED),
        ),
        processes=Count("event__process", distinct=True),
        speaking=Count("pk", filter=Q(role=Participation.Role.SPEAKER)),
    )

    pledges = list(
        Pledge.objects.filter(city=city)
        .only("pk", "title", "status", "progress_percent", "last_update_on", "announced_on")
        .order_by("-announced_on", "-pk")
    )
    pledge_counts = defaultdict(int)
    for pledge in pledges:
        pledge_counts[pledge.status] += 1

    ta_rows = list(
        TARequest.objects.filter(city=city)
        .only("pk", "topic", "status", "received_on", "delivered_on", "due_date")
        .order_by("-received_on", "-pk")
    )
    ta_counts = defaultdict(int)
    days = []
    for request in ta_rows:
        ta_counts[request.status] += 1
        if request.delivered_on:
            days.append((request.delivered_on - request.received_on).days)

    return {
        "city": city,
        "per_year": per_year,
        "engagements_total": sum(row["n"] for row in per_year),
        "engagements_url": list_url("engagements:engagement_list", city=city.pk),
        "participations": participations,
        "participations_url": list_url("engagements:participation_list", city=city.pk),
        "pledges": pledges[:8],
        "pledges_more": max(0, len(pledges) - 8),
        "pledge_counts": [(label, pledge_counts[value]) for value, label in Pledge.Status.choices],
        "pledges_total": len(pledges),
        "pledges_url": list_url("pledges:pledge_list", city=city.pk),
        "ta_recent": ta_rows[:5],
        "ta_counts": [(label, ta_counts[value]) for value, label in TARequest.Status.choices],
        "ta_total": len(ta_rows),
        "ta_open": sum(ta_counts[s] for s in TARequest.OPEN_STATUSES),
        "ta_overdue": sum(1 for r in ta_rows if r.is_open and r.due_date and r.due_date < today),
        "ta_median_days": round(statistics.median(days), 1) if days else None,
        "ta_url": list_url("engagements:ta_list", city=city.pk),
    }


# --- The period / scope form -----------------------------------------------------------------

MAX_PERIOD_YEARS = 10


class DashboardFilterForm(forms.Form):
    """Period (this year by default) and an optional region or network."""

    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    region = forms.ChoiceField(
        required=False, choices=[("", "All regions"), *Country.Region.choices]
    )
    network = forms.ModelChoiceField(
        required=False, queryset=CityNetwork.objects.order_by("name"), empty_label="All networks"
    )

    def __init__(self, data=None, *, today=None, **kwargs):
        super().__init__(data, **kwargs)
        self.today = today or timezone.localdate()
        if not self.is_bound:  # show the default period in the date boxes
            default = Period.this_year(self.today)
            self.initial.update(start=default.start, end=default.end)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and not end:
            end = datetime.date(start.year, 12, 31)
        if end and not start:
            start = datetime.date(end.year, 1, 1)
        if start and end:
            if end < start:
                raise forms.ValidationError("The period must end on or after its start.")
            if (end - start).days > MAX_PERIOD_YEARS * 366:
                raise forms.ValidationError(f"Choose a period of at most {MAX_PERIOD_YEARS} years.")
        cleaned["start"], cleaned["end"] = start, end
        return cleaned

    def period_and_scope(self):
        """What to show: the chosen period and scope, or this year for all cities when the
        form is empty or invalid (the errors are shown next to the defaults)."""
        default = Period.this_year(self.today)
        if not self.is_bound or not self.is_valid():
            return default, Scope()
        data = self.cleaned_data
        period = Period(data["start"], data["end"]) if data["start"] else default
        return period, Scope(region=data["region"], network=data["network"])

    def presets(self):
        """Quick links to common periods, keeping the region / network."""
        today = self.today
        keep = {}
        if self.is_bound and self.is_valid():
            network = self.cleaned_data["network"]
            keep = {"region": self.cleaned_data["region"], "network": network.pk if network else ""}
        choices = [
            ("This year", Period.this_year(today)),
            ("Last year", Period.year(today.year - 1)),
            ("Last 12 months", Period(today - datetime.timedelta(days=364), today)),
        ]
        return [
            {
                "label": label,
                "url": list_url(
                    "crm:dashboard", start=p.start.isoformat(), end=p.end.isoformat(), **keep
                ),
            }
            for label, p in choices
        ]


# --- XLSX export -----------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    # A text cell starting like a formula is shown as text, never evaluated by the spreadsheet.
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def dashboard_workbook(data):
    """The dashboard's blocks as an XLSX workbook (bytes), one sheet per block."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)

    def sheet(title, header, rows):
        ws = workbook.create_sheet(title)
        ws.append(["MMC dashboard", f"{data.period.start} to {data.period.end}"])
        ws.append(["Compared with", f"{data.previous.start} to {data.previous.end}"])
        ws.append(["Cities", str(data.scope)])
        ws.append([])
        ws.append(header)
        for cell in ws[ws.max_row]:
            cell.font = bold
        for row in rows:
            ws.append([_cell(value) for value in row])
        ws.column_dimensions["A"].width = 34
        return ws

    for block in data.blocks:
        sheet(
            block.title,
            ["Figure", "This period", "Previous period", "Change", "Note"],
            [[f.label, f.value, f.previous, f.change, f.help] for f in block.figures],
        )
    by_month = data.by_month
    sheet(
        "Engagements by month",
        ["Month", *[s["label"] for s in by_month["series"]], "Total"],
        [
            [month, *[s["counts"][i] for s in by_month["series"]], by_month["totals"][i]]
            for i, month in enumerate(by_month["months"])
        ],
    )
    sheet(
        "Engagements by region",
        ["Region", "Engagements"],
        [[row["label"], row["count"]] for row in data.by_region],
    )
    framework = data.by_framework
    sheet(
        "Pledges by framework",
        ["Framework", *[label for _, label in framework["statuses"]], "Total"],
        [
            [row["label"], *[c["count"] for c in row["cells"]], row["total"]]
            for row in framework["rows"]
        ],
    )
    sheet(
        "TA pipeline",
        ["Status", "Requests received in the period"],
        [[row["label"], row["count"]] for row in data.pipeline],
    )
    sheet(
        "Partner cities",
        ["Ranking", "City", "Country", "Engagements"],
        [
            ["Most engaged", c["name"], c["country__name"], c["n"]]
            for c in data.engaged_cities["most"]
        ]
        + [
            ["Least engaged", c["name"], c["country__name"], c["n"]]
            for c in data.engaged_cities["least"]
        ],
    )
    sheet(
        "Overdue by owner",
        ["Owner", "Overdue follow-ups", "Overdue TA requests"],
        [[row["name"], row["followups"], row["ta"]] for row in data.overdue],
    )
    sheet(
        "Board seats ending",
        ["Mayor", "City", "Role", "Ends on"],
        [
            [
                str(seat.mayor),
                ", ".join(str(t.city) for t in seat.mayor.current_terms),
                seat.get_role_display(),
                seat.end_date,
            ]
            for seat in data.board_seats
        ],
    )
    sheet(
        "Upcoming events",
        ["Event", "Process", "Starts", "Place", "Delegation"],
        [
            [
                event.name,
                event.get_process_display(),
                event.start_date,
                event.place,
                "; ".join(f"{p.city} ({p.get_role_display()})" for p in event.delegation),
            ]
            for event in data.events
        ],
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
