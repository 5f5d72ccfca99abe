import django_filters
from django import forms

from cities.filters import ContactFilter
from cities.models import City

from .models import Campaign, CampaignRecipient, Reminder, Rule


class AudienceFilter(ContactFilter):
    """Who a campaign goes to: the contact list's filters (same parameter names), plus the
    city's partnership status. Consent and unsubscribes are applied on top, always."""

    city_status = django_filters.MultipleChoiceFilter(
        field_name="city__status",
        choices=City.Status.choices,
        label="City status",
        widget=forms.SelectMultiple(attrs={"data-picker": ""}),
    )

    # Not choices a campaign audience offers: ordering, and who may receive (always "yes").
    EXCLUDED = ("o", "can_receive")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.EXCLUDED:
            self.filters.pop(name, None)

    @classmethod
    def parameter_names(cls):
        return [name for name in cls.base_filters if name not in cls.EXCLUDED]


class CampaignFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name")
    status = django_filters.ChoiceFilter(choices=Campaign.Status.choices)
    o = django_filters.OrderingFilter(
        fields=(("created_at", "created"), ("name", "name"), ("status", "status"))
    )

    class Meta:
        model = Campaign
        fields = []


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(
        field_name="read_at",
        lookup_expr="isnull",
        label="Show",
        widget=forms.Select(choices=[("", "All"), ("true", "Unread only"), ("false", "Read")]),
    )
    rule = django_filters.ChoiceFilter(choices=Rule.choices)

    class Meta:
        model = Reminder
        fields = []


class FailedReminderFilter(django_filters.FilterSet):
    rule = django_filters.ChoiceFilter(choices=Rule.choices)

    class Meta:
        model = Reminder
        fields = []


class RecipientFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=CampaignRecipient.Status.choices,
        empty_label="Any status",
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    class Meta:
        model = CampaignRecipient
        fields = []
