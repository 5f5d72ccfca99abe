"""List filters. Parameter names are a contract: other pages and the dashboard link to them."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from crm.core.text import fold
from crm.core.widgets import DateRangeInputs, PickerSelect, PlainSelect, YesNoAny

from .models import BoardSeat, City, CityNetwork, Contact, Country, Mayor, MayoralTerm, Tag


def _search_box(label):
    return django_filters.CharFilter(
        label=label,
        method="filter_q",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Type to search"}),
    )


class CityFilter(django_filters.FilterSet):
    q = _search_box("Name or alias")
    region = django_filters.ChoiceFilter(
        field_name="country__region",
        choices=Country.Region.choices,
        label="Region",
        empty_label="Any region",
    )
    country = django_filters.ModelChoiceFilter(
        queryset=Country.objects.all(),
        empty_label="Any country",
        widget=PlainSelect(attrs={"data-picker": ""}),  # ~250 options: rendered in one pass
    )
    status = django_filters.MultipleChoiceFilter(
        choices=City.Status.choices,
        widget=forms.SelectMultiple(attrs={"data-picker": "", "placeholder": "Any status"}),
        distinct=False,  # a column of the row: no duplicates, and no costly DISTINCT
    )
    network = django_filters.ModelChoiceFilter(
        field_name="networks",
        queryset=CityNetwork.objects.all(),
        label="Network",
        empty_label="Any network",
    )
    tag = django_filters.ModelChoiceFilter(
        field_name="tags", queryset=Tag.objects.all(), label="Tag", empty_label="Any tag"
    )
    engaged = django_filters.DateFromToRangeFilter(
        method="filter_engaged",
        label="Engaged between",
        widget=DateRangeInputs(),
    )
    o = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("country__name", "country"),
            ("status", "status"),
            ("population", "population"),
            ("updated_at", "updated"),
        )
    )

    class Meta:
        model = City
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(search_text__contains=fold(value)) if fold(value) else queryset

    def filter_engaged(self, queryset, name, value):
        from engagements.models import Engagement

        engagements = Engagement.objects.filter(cities=OuterRef("pk"))
        if value.start:
            engagements = engagements.filter(date__gte=value.start)
        if value.stop:
            engagements = engagements.filter(date__lte=value.stop)
        return queryset.filter(Exists(engagements))


class ContactFilter(django_filters.FilterSet):
    q = _search_box("Name, email or organisation")
    city = django_filters.ModelChoiceFilter(
        queryset=City.objects.all(), widget=PickerSelect("cities:city_picker")
    )
    region = django_filters.ChoiceFilter(
        field_name="city__country__region",
        choices=Country.Region.choices,
        label="Region",
        empty_label="Any region",
    )
    network = django_filters.ModelChoiceFilter(
        field_name="city__networks",
        queryset=CityNetwork.objects.all(),
        label="Network",
        empty_label="Any network",
    )
    organisation = django_filters.CharFilter(lookup_expr="icontains")
    focal_point = django_filters.BooleanFilter(
        field_name="is_focal_point", label="Focal point", widget=YesNoAny
    )
    can_receive = django_filters.BooleanFilter(
        method="filter_can_receive", label="Can receive outreach", widget=YesNoAny
    )
    language = django_filters.CharFilter(
        method="filter_language", label="Language", help_text="ISO code, e.g. es"
    )
    o = django_filters.OrderingFilter(
        fields=(
            ("last_name", "name"),
            ("city__name", "city"),
            ("organisation", "organisation"),
            ("updated_at", "updated"),
        )
    )

    class Meta:
        model = Contact
        fields = []

    def filter_q(self, queryset, name, value):
        folded = fold(value)
        if not folded:
            return queryset
        return queryset.filter(
            Q(name_key__contains=folded)
            | Q(email__contains=folded)
            | Q(organisation__icontains=value.strip())
        )

    def filter_can_receive(self, queryset, name, value):
        reachable = Q(consent_to_outreach=True, unsubscribed_at__isnull=True) & ~Q(email="")
        return queryset.filter(reachable) if value else queryset.exclude(reachable)

    def filter_language(self, queryset, name, value):
        # Stored normalised by Contact.save(): "en, es, fr".
        code = value.strip().lower()
        if not code:
            return queryset
        return queryset.filter(
            Q(languages=code)
            | Q(languages__startswith=f"{code}, ")
            | Q(languages__endswith=f", {code}")
            | Q(languages__contains=f", {code}, ")
        )


class MayorFilter(django_filters.FilterSet):
    q = _search_box("Name")
    city = django_filters.ModelChoiceFilter(
        queryset=City.objects.all(),
        method="filter_city",
        label="City",
        widget=PickerSelect("cities:city_picker"),
    )
    region = django_filters.ChoiceFilter(
        choices=Country.Region.choices,
        method="filter_region",
        label="Region",
        empty_label="Any region",
    )
    current = django_filters.BooleanFilter(
        method="filter_current", label="In office now", widget=YesNoAny
    )
    on_board = django_filters.BooleanFilter(
        method="filter_on_board", label="On the board now", widget=YesNoAny
    )
    o = django_filters.OrderingFilter(fields=(("full_name", "name"),))

    class Meta:
        model = Mayor
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(name_key__contains=fold(value)) if fold(value) else queryset

    def filter_city(self, queryset, name, value):
        return queryset.filter(Exists(MayoralTerm.objects.filter(mayor=OuterRef("pk"), city=value)))

    def filter_region(self, queryset, name, value):
        terms = MayoralTerm.objects.filter(mayor=OuterRef("pk"), city__country__region=value)
        return queryset.filter(Exists(terms))

    def filter_current(self, queryset, name, value):
        current = Exists(MayoralTerm.objects.current().filter(mayor=OuterRef("pk")))
        return queryset.filter(current) if value else queryset.exclude(current)

    def filter_on_board(self, queryset, name, value):
        seats = BoardSeat.objects.on(timezone.localdate()).filter(mayor=OuterRef("pk"))
        return queryset.filter(Exists(seats)) if value else queryset.exclude(Exists(seats))
