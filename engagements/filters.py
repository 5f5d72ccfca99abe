"""List filters. Parameter names are a contract: the dashboard and other apps link to these lists
with them (see CONTRIBUTING.md), so rename nothing without updating those links.

Filters across a many-to-many (an engagement's cities, a contribution's signing cities) use
``pk__in`` subqueries rather than joins, so a record never appears twice and counts stay exact.
"""

import datetime

import django_filters as filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cities.models import City, CityNetwork, Country
from crm.core.text import fold
from crm.core.widgets import DateRangeInputs, PickerSelect, YesNoAny
from crm.models import User

from .models import (
    Engagement,
    Event,
    InboundEmail,
    Participation,
    PolicyContribution,
    PolicyOutcome,
    Process,
    TARequest,
)

# "Due this week" means due in the next seven days, today included, so the list is never
# nearly empty on a Sunday.
DUE_WEEK_DAYS = 7


def date_range(**kwargs):
    return filters.DateFromToRangeFilter(widget=DateRangeInputs(), **kwargs)


def city_filter(field_name="city", label="City"):
    return filters.ModelChoiceFilter(
        field_name=field_name,
        label=label,
        queryset=City.objects.all(),
        widget=PickerSelect(url_name="cities:city_picker"),
    )


def region_filter(method=None, field_name="city__country__region"):
    extra = {"method": method} if method else {"field_name": field_name}
    return filters.ChoiceFilter(label="Region", choices=Country.Region.choices, **extra)


def network_filter(method=None, field_name="city__networks"):
    extra = {"method": method} if method else {"field_name": field_name}
    return filters.ModelChoiceFilter(
        label="Network", queryset=CityNetwork.objects.order_by("name"), **extra
    )


def owner_filter(**kwargs):
    return filters.ModelChoiceFilter(
        label="Owner",
        queryset=User.objects.filter(is_active=True).order_by("first_name", "username"),
        **kwargs,
    )


def by_cities(through, fk_name):
    """Region and network filter methods for a many-to-many to City, via a subquery."""

    def filter_cities(queryset, city_lookup):
        ids = through.objects.filter(**city_lookup).values(fk_name)
        return queryset.filter(pk__in=ids)

    def region(self, queryset, name, value):
        return filter_cities(queryset, {"city__country__region": value}) if value else queryset

    def network(self, queryset, name, value):
        return filter_cities(queryset, {"city__networks": value}) if value else queryset

    return region, network


class EngagementFilter(filters.FilterSet):
    FOLLOW_UP_CHOICES = (
        ("open", "Open"),
        ("overdue", "Overdue"),
        ("due_week", "Due this week"),
        ("done", "Done"),
    )

    q = filters.CharFilter(label="Search", method="filter_q")
    # distinct=False: a column of the row itself cannot repeat rows, and DISTINCT over the whole
    # row makes counting 200,000 engagements several times slower.
    kind = filters.MultipleChoiceFilter(
        choices=Engagement.Kind.choices,
        widget=forms.SelectMultiple(attrs={"data-picker": ""}),
        distinct=False,
    )
    date = date_range(label="Date")
    city = city_filter(field_name="cities")
    region = region_filter(method="filter_region")
    network = network_filter(method="filter_network")
    owner = owner_filter()
    follow_up = filters.ChoiceFilter(
        label="Follow-up", choices=FOLLOW_UP_CHOICES, method="filter_follow_up"
    )
    from_email = filters.BooleanFilter(
        label="Logged from email", method="filter_from_email", widget=YesNoAny
    )
    o = filters.OrderingFilter(
        fields=(("date", "date"), ("kind", "kind"), ("follow_up_date", "follow_up_date")),
    )

    class Meta:
        model = Engagement
        fields = []

    filter_region, filter_network = by_cities(Engagement.cities.through, "engagement_id")

    def filter_q(self, queryset, name, value):
        if not value.strip():
            return queryset
        city_ids = City.objects.filter(search_text__contains=fold(value)).values("pk")
        in_cities = Engagement.cities.through.objects.filter(city__in=city_ids).values(
            "engagement_id"
        )
        return queryset.filter(
            Q(summary__icontains=value)
            | Q(notes__icontains=value)
            | Q(outcome__icontains=value)
            | Q(pk__in=in_cities)
        )

    def filter_follow_up(self, queryset, name, value):
        return follow_up_queryset(queryset, value)

    def filter_from_email(self, queryset, name, value):
        if value is None:
            return queryset
        emailed = Exists(InboundEmail.objects.filter(engagement=OuterRef("pk")))
        return queryset.filter(emailed) if value else queryset.exclude(emailed)


def follow_up_queryset(queryset, state, today=None):
    """Engagements whose follow-up is in ``state`` (open, overdue, due_week, done)."""
    today = today or timezone.localdate()
    open_ = queryset.filter(follow_up_date__isnull=False, follow_up_done=False)
    if state == "open":
        return open_
    if state == "overdue":
        return open_.filter(follow_up_date__lt=today)
    if state == "due_week":
        last = today + datetime.timedelta(days=DUE_WEEK_DAYS - 1)
        return open_.filter(follow_up_date__range=(today, last))
    if state == "done":
        return queryset.filter(follow_up_done=True)
    return queryset


class TARequestFilter(filters.FilterSet):
    q = filters.CharFilter(label="Search", method="filter_q")
    status = filters.MultipleChoiceFilter(
        choices=TARequest.Status.choices,
        widget=forms.SelectMultiple(attrs={"data-picker": ""}),
        distinct=False,  # a column of the row: no duplicates, and no costly DISTINCT
    )
    owner = owner_filter()
    city = city_filter()
    region = region_filter()
    network = network_filter()
    priority = filters.ChoiceFilter(choices=TARequest.Priority.choices)
    overdue = filters.BooleanFilter(label="Overdue", method="filter_overdue", widget=YesNoAny)
    received_on = date_range(label="Received")
    delivered_on = date_range(label="Delivered")
    o = filters.OrderingFilter(
        fields=(
            ("received_on", "received_on"),
            ("due_date", "due_date"),
            ("priority", "priority"),
            ("status", "status"),
            ("city__name", "city"),
        ),
    )

    class Meta:
        model = TARequest
        fields = []

    def filter_q(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(
            Q(topic__icontains=value)
            | Q(description__icontains=value)
            | Q(city__search_text__contains=fold(value))
        )

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = Q(status__in=TARequest.OPEN_STATUSES, due_date__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class EventFilter(filters.FilterSet):
    q = filters.CharFilter(label="Search", method="filter_q")
    process = filters.MultipleChoiceFilter(
        choices=Process.choices,
        widget=forms.SelectMultiple(attrs={"data-picker": ""}),
        distinct=False,  # a column of the row: no duplicates, and no costly DISTINCT
    )
    start_date = date_range(label="Starts")
    with_city_participation = filters.BooleanFilter(
        label="With city participation",
        method="filter_with_participation",
        widget=YesNoAny,
    )
    o = filters.OrderingFilter(
        fields=(("start_date", "start_date"), ("name", "name"), ("process", "process")),
    )

    class Meta:
        model = Event
        fields = []

    def filter_q(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(place__icontains=value))

    def filter_with_participation(self, queryset, name, value):
        if value is None:
            return queryset
        has = Exists(Participation.objects.filter(event=OuterRef("pk")))
        return queryset.filter(has) if value else queryset.exclude(has)


class ParticipationFilter(filters.FilterSet):
    event = filters.ModelChoiceFilter(
        queryset=Event.objects.all(), widget=PickerSelect(url_name="engagements:event_picker")
    )
    city = city_filter()
    region = region_filter()
    network = network_filter()
    role = filters.ChoiceFilter(choices=Participation.Role.choices)
    status = filters.ChoiceFilter(choices=Participation.Status.choices)
    process = filters.ChoiceFilter(field_name="event__process", choices=Process.choices)
    event_start = date_range(field_name="event__start_date", label="Event starts")
    o = filters.OrderingFilter(
        fields=(
            ("event__start_date", "event_start"),
            ("city__name", "city"),
            ("role", "role"),
            ("status", "status"),
        ),
    )

    class Meta:
        model = Participation
        fields = []


class ContributionFilter(filters.FilterSet):
    q = filters.CharFilter(label="Search", method="filter_q")
    kind = filters.ChoiceFilter(choices=PolicyContribution.Kind.choices)
    process = filters.ChoiceFilter(choices=Process.choices)
    date = date_range(label="Date")
    city = city_filter(field_name="cities")
    region = region_filter(method="filter_region")
    network = network_filter(method="filter_network")
    o = filters.OrderingFilter(fields=(("date", "date"), ("title", "title"), ("kind", "kind")))

    class Meta:
        model = PolicyContribution
        fields = []

    filter_region, filter_network = by_cities(
        PolicyContribution.cities.through, "policycontribution_id"
    )

    def filter_q(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(summary__icontains=value))


class OutcomeFilter(filters.FilterSet):
    q = filters.CharFilter(label="Search", method="filter_q")
    date = date_range(label="Date")
    o = filters.OrderingFilter(fields=(("date", "date"), ("title", "title")))

    class Meta:
        model = PolicyOutcome
        fields = []

    def filter_q(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))


class InboxFilter(filters.FilterSet):
    q = filters.CharFilter(label="Search", method="filter_q")
    status = filters.ChoiceFilter(choices=InboundEmail.Status.choices, empty_label="Any")
    reason = filters.ChoiceFilter(label="Waiting because", choices=InboundEmail.Reason.choices[1:])
    source = filters.ChoiceFilter(choices=InboundEmail.Source.choices)
    received_at = date_range(label="Received")
    o = filters.OrderingFilter(fields=(("received_at", "received_at"), ("sent_at", "sent_at")))

    class Meta:
        model = InboundEmail
        fields = []

    def filter_q(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(
            Q(subject__icontains=value)
            | Q(from_address__icontains=value)
            | Q(from_name__icontains=value)
            | Q(body__icontains=value)
        )
