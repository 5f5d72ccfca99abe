"""The dashboard's charts: engagements by month and by region, pledges by framework, the TA
pipeline. Each bar carries the URL of the list it counts."""

import datetime
from collections import defaultdict

from django.db.models import Count
from django.db.models.functions import TruncMonth

from cities.models import Country
from engagements.models import Engagement, TARequest
from pledges.models import Framework, Pledge

from .scope import EngagementCities, PledgeFrameworks, engagements_in_scope, list_url


def _months(period):
    months, day = [], period.start.replace(day=1)
    while day <= period.end:
        months.append(day)
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return months


def engagements_by_month(period, scope):
    """Engagements per month and kind: {"months": [...], "series": [{kind, label, counts}]}."""
    rows = (
        engagements_in_scope(scope)
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
