"""What every figure counts over: a period, a scope (region / network, always through the city),
and the URL of the list a figure links to."""

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cities.models import City, CityNetwork, Country
from engagements.models import Engagement, PolicyContribution
from pledges.models import Pledge

EngagementCities = Engagement.cities.through
ContributionCities = PolicyContribution.cities.through
PledgeFrameworks = Pledge.frameworks.through


def list_url(url_name, **params):
    """A list page's URL with its filter parameters (empty ones left out)."""
    query = {key: value for key, value in params.items() if value not in ("", None)}
    url = reverse(url_name)
    return f"{url}?{urlencode(query, doseq=True)}" if query else url


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


def engagements_in_scope(scope):
    return scope.through_filter(Engagement.objects.all(), EngagementCities, "engagement_id")


def contributions_in_scope(scope):
    return scope.through_filter(
        PolicyContribution.objects.all(), ContributionCities, "policycontribution_id"
    )


def in_period(period, lookup):
    return Q(**{f"{lookup}__range": period.range()})
