import zoneinfo

from crispy_forms.helper import FormHelper
from django import forms

from .models import Campaign, NotificationPreference, Rule
from .services import merge_field_errors

TIME_ZONES = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})


class NotificationPreferenceForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=[(tz, tz.replace("_", " ")) for tz in TIME_ZONES],
        widget=forms.Select(attrs={"data-picker": ""}),
        help_text="The digest goes out at the hour below in this time zone.",
    )
    digest_hour = forms.TypedChoiceField(
        coerce=int,
        choices=[(hour, f"{hour:02d}:00") for hour in range(24)],
        label="Digest time",
    )
    muted_rules = forms.MultipleChoiceField(
        choices=Rule.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Do not email me about",
        help_text="Muted reminders still appear in your notifications here, but are not emailed.",
    )

    class Meta:
        model = NotificationPreference
        fields = ["delivery", "time_zone", "digest_hour", "muted_rules"]
        widgets = {"delivery": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 12})}
        # The merge fields are listed under the form; say only how text becomes paragraphs.
        help_texts = {"body": "Plain text: a blank line starts a new paragraph."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_subject(self):
        return _checked_merge_fields(self.cleaned_data["subject"])

    def clean_body(self):
        return _checked_merge_fields(self.cleaned_data["body"])


def _checked_merge_fields(text):
    errors = merge_field_errors(text)
    if errors:
        raise forms.ValidationError(errors)
    return text
