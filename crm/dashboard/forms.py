"""The dashboard's period and scope form."""

import datetime

from django import forms
from django.utils import timezone

from cities.models import CityNetwork, Country

from .scope import Period, Scope, list_url

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
