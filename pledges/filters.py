"""The pledge list's filters. Parameter names are a contract (CONTRIBUTING.md): the dashboard,
the framework summary and reminders link here with them, so rename nothing without those links.

Filters across a many-to-many (frameworks, a city's networks) use ``pk__in`` subqueries rather
than joins, so a pledge never appears twice and counts stay exact.
"""

import django_filters as filters
from django import forms
from django.db.models import Q

from cities.models import City, CityNetwork, Country
from crm.core.text import fold
from crm.core.widgets import DateRangeInputs, PickerSelect, YesNoAny
from crm.models import User
from engagements.models import Event

from .models import Framework, Pledge
from .selectors import stalled_q

PledgeFrameworks = Pledge.frameworks.through


class PledgeFilter(filters.FilterSet):
    q = filters.CharFilter(label="Search", method="search")
    status = filters.MultipleChoiceFilter(
        choices=Pledge.Status.choices,
        widget=forms.SelectMultiple(attrs={"data-picker": ""}),
        distinct=False,  # a column of the row: no duplicates, and no costly DISTINCT
    )
    framework = filters.ModelChoiceFilter(
        label="Framework", queryset=Framework.objects.all(), method="by_framework"
    )
    framework_kind = filters.ChoiceFilter(
        label="Framework kind", choices=Framework.Kind.choices, method="by_framework_kind"
    )
    region = filters.ChoiceFilter(
        label="Region", choices=Country.Region.choices, field_name="city__country__region"
    )
    network = filters.ModelChoiceFilter(
        label="Network", queryset=CityNetwork.objects.order_by("name"), method="by_network"
    )
    city = filters.ModelChoiceFilter(
        queryset=City.objects.all(), widget=PickerSelect(url_name="cities:city_picker")
    )
    event = filters.ModelChoiceFilter(queryset=Event.objects.all())
    owner = filters.ModelChoiceFilter(
        queryset=User.objects.filter(is_active=True).order_by("first_name", "username")
    )
    stalled = filters.BooleanFilter(
        label="No update in 6 months", method="by_stalled", widget=YesNoAny
    )
    announced_on = filters.DateFromToRangeFilter(label="Announced", widget=DateRangeInputs())
    o = filters.OrderingFilter(
        fields=(
            ("announced_on", "announced_on"),
            ("title", "title"),
            ("city__name", "city"),
            ("status", "status"),
            ("progress_percent", "progress_percent"),
            ("last_update_on", "last_update_on"),
            ("target_date", "target_date"),
        )
    )

    class Meta:
        model = Pledge
        fields = []

    def search(self, queryset, name, value):
        folded = fold(value)
        if not folded:
            return queryset
        return queryset.filter(
            Q(title__icontains=value.strip())
            | Q(description__icontains=value.strip())
            | Q(city__search_text__contains=folded)
        )

    def by_framework(self, queryset, name, value):
        return queryset.filter(
            pk__in=PledgeFrameworks.objects.filter(framework=value).values("pledge_id")
        )

    def by_framework_kind(self, queryset, name, value):
        return queryset.filter(
            pk__in=PledgeFrameworks.objects.filter(framework__kind=value).values("pledge_id")
        )

    def by_network(self, queryset, name, value):
        cities = City.networks.through.objects.filter(citynetwork=value).values("city_id")
        return queryset.filter(city__in=cities)

    def by_stalled(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(stalled_q()) if value else queryset.exclude(stalled_q())

    @property
    def qs(self):
        # A stable order whatever the sort column, so paging never repeats or skips a row.
        if not hasattr(self, "_stable_qs"):
            queryset = super().qs
            ordering = list(queryset.query.order_by) or list(Pledge._meta.ordering)
            if "-pk" not in ordering and "pk" not in ordering:
                ordering.append("-pk")
            self._stable_qs = queryset.order_by(*ordering)
        return self._stable_qs


class FrameworkSummaryFilter(PledgeFilter):
    """The summary counts pledges matching these; its links pass them on to the list."""

    class Meta(PledgeFilter.Meta):
        pass

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("q", "framework", "framework_kind", "stalled", "o", "owner", "city"):
            self.filters.pop(name, None)
