from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils import timezone

from crm.core.widgets import PickerSelect
from crm.models import User
from engagements.models import Event

from .models import Framework, Pledge, PledgeUpdate


def _helper(layout=None):
    # The page template owns the <form> tag and the buttons.
    helper = FormHelper()
    helper.form_tag = False
    if layout is not None:
        helper.layout = layout
    return helper


class PledgeForm(forms.ModelForm):
    class Meta:
        model = Pledge
        fields = [
            "city",
            "title",
            "description",
            "frameworks",
            "event",
            "announced_on",
            "status",
            "target_date",
            "owner",
        ]
        widgets = {
            "city": PickerSelect(url_name="cities:city_picker"),
            "description": forms.Textarea(attrs={"rows": 4}),
            # A few dozen frameworks: searched in the page, no server round trip.
            "frameworks": forms.SelectMultiple(attrs={"data-picker": ""}),
            "event": forms.Select(attrs={"data-picker": ""}),
            "owner": forms.Select(attrs={"data-picker": ""}),
            "announced_on": forms.DateInput(attrs={"type": "date"}),
            "target_date": forms.DateInput(attrs={"type": "date"}),
        }
        help_texts = {
            "status": "Achieved needs a progress update at 100 %; progress comes from updates.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["frameworks"].queryset = Framework.objects.order_by("kind", "number", "title")
        self.fields["event"].queryset = Event.objects.order_by("-start_date", "name")
        self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by(
            "first_name", "last_name", "username"
        )
        self.helper = _helper(
            Layout(
                "city",
                "title",
                "description",
                "frameworks",
                Row(Column("event", css_class="col-md-6"), Column("owner", css_class="col-md-6")),
                Row(
                    Column("announced_on", css_class="col-md-4"),
                    Column("status", css_class="col-md-4"),
                    Column("target_date", css_class="col-md-4"),
                ),
            )
        )


class PledgeUpdateForm(forms.ModelForm):
    """A progress update; the pledge's status follows the rules in pledges.services unless the
    person picks one."""

    status = forms.ChoiceField(
        label="Pledge status",
        required=False,
        choices=[("", "Automatic"), *Pledge.Status.choices],
        help_text="Automatic: 100 % marks it achieved; news moves it to in progress.",
    )
    evidence_url = forms.URLField(
        label="Evidence link",
        required=False,
        assume_scheme="https",
        max_length=200,
        help_text="Optional: a report, article…",
    )

    class Meta:
        model = PledgeUpdate
        fields = ["date", "percent", "note", "evidence_url"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}),
            "percent": forms.NumberInput(attrs={"min": 0, "max": 100, "step": 1}),
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"percent": "Percent complete"}
        help_texts = {"percent": "0 to 100."}

    def __init__(self, *args, pledge, **kwargs):
        super().__init__(*args, **kwargs)
        self.pledge = pledge
        self.fields["date"].initial = timezone.localdate()
        self.fields["percent"].initial = pledge.progress_percent
        self.helper = _helper(
            Layout(
                Row(
                    Column("date", css_class="col-sm-4"),
                    Column("percent", css_class="col-sm-4"),
                    Column("status", css_class="col-sm-4"),
                ),
                "note",
                "evidence_url",
            )
        )

    def clean(self):
        cleaned = super().clean()
        percent = cleaned.get("percent")
        if (
            cleaned.get("status") == Pledge.Status.ACHIEVED
            and percent is not None
            and percent < 100
        ):
            self.add_error(
                "status", "Achieved means 100 %: set the percent to 100 or pick another status."
            )
        return cleaned
