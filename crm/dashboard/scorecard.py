"""One city's record at a glance (the scorecard section of the city page)."""

import statistics
from collections import defaultdict

from django.db.models import Count, Q
from django.db.models.functions import ExtractYear
from django.utils import timezone

from engagements.models import Engagement, Participation, TARequest
from pledges.models import Pledge

from .scope import EngagementCities, Period, list_url


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
