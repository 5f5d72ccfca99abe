from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms

from cities.models import City, Contact
from crm.core.widgets import PickerSelect, PickerSelectMultiple
from crm.models import User

from .models import Engagement, Event, Participation, PolicyContribution, PolicyOutcome, TARequest


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.username


def staff_users():
    return User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")


class CrispyModelForm(forms.ModelForm):
    """The page template (crm/record_form.html) draws the <form> tag and the buttons."""

    layout = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        if self.layout is not None:
            self.helper.layout = self.layout


def row(*fields):
    return Row(*(Column(name, css_class="col-12 col-md") for name in fields))


class EngagementForm(CrispyModelForm):
    owner = UserChoiceField(queryset=staff_users(), label="MMC owner")

    layout = Layout(
        row("date", "kind", "owner"),
        "cities",
        "contacts",
        "summary",
        "notes",
        "outcome",
        Row(
            Column("follow_up_date", css_class="col-12 col-md"),
            # Level with the date box rather than with its label.
            Column("follow_up_done", css_class="col-12 col-md align-self-center"),
        ),
    )

    class Meta:
        model = Engagement
        fields = [
            "date",
            "kind",
            "owner",
            "cities",
            "contacts",
            "summary",
            "notes",
            "outcome",
            "follow_up_date",
            "follow_up_done",
        ]
        widgets = {
            "date": DateInput(),
            "follow_up_date": DateInput(),
            "cities": PickerSelectMultiple(url_name="cities:city_picker"),
            "contacts": PickerSelectMultiple(url_name="cities:contact_picker"),
            "notes": forms.Textarea(attrs={"rows": 4}),
            "outcome": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "summary": "What happened",
            "follow_up_date": "Follow-up",
            "follow_up_done": "Follow-up done",
        }
        help_texts = {
            "cities": "Type to search; add as many cities as took part.",
            "follow_up_date": "When you want to be reminded to follow up (optional).",
        }


class TARequestForm(CrispyModelForm):
    owner = UserChoiceField(queryset=staff_users(), required=False, label="MMC owner")

    layout = Layout(
        row("city", "requested_by"),
        "topic",
        "description",
        row("priority", "owner"),
        row("received_on", "due_date"),
    )

    class Meta:
        model = TARequest
        fields = [
            "city",
            "requested_by",
            "topic",
            "description",
            "priority",
            "owner",
            "received_on",
            "due_date",
        ]
        widgets = {
            "city": PickerSelect(url_name="cities:city_picker"),
            "requested_by": PickerSelect(url_name="cities:contact_picker"),
            "received_on": DateInput(),
            "due_date": DateInput(),
            "description": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {"requested_by": "Requesting contact"}


class EventForm(CrispyModelForm):
    layout = Layout(
        row("name", "process"),
        row("start_date", "end_date", "registration_deadline"),
        row("place", "website"),
        "notes",
    )

    class Meta:
        model = Event
        fields = [
            "name",
            "process",
            "start_date",
            "end_date",
            "registration_deadline",
            "place",
            "website",
            "notes",
        ]
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "registration_deadline": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class ParticipationForm(CrispyModelForm):
    owner = UserChoiceField(queryset=staff_users(), required=False, label="MMC owner")

    layout = Layout(
        row("event", "city"),
        row("mayor", "contact"),
        row("role", "status", "owner"),
        "outcome",
    )

    class Meta:
        model = Participation
        fields = ["event", "city", "mayor", "contact", "role", "status", "owner", "outcome"]
        widgets = {
            "event": PickerSelect(url_name="engagements:event_picker"),
            "city": PickerSelect(url_name="cities:city_picker"),
            "mayor": PickerSelect(url_name="cities:mayor_picker"),
            "contact": PickerSelect(url_name="cities:contact_picker"),
            "outcome": forms.Textarea(attrs={"rows": 3}),
        }


class ContributionForm(CrispyModelForm):
    layout = Layout(
        row("kind", "date"),
        "title",
        row("process", "event"),
        "cities",
        "summary",
        "link",
    )

    class Meta:
        model = PolicyContribution
        fields = ["kind", "title", "date", "process", "event", "cities", "summary", "link"]
        widgets = {
            "date": DateInput(),
            "event": PickerSelect(url_name="engagements:event_picker"),
            "cities": PickerSelectMultiple(url_name="cities:city_picker"),
            "summary": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"process": "Target process", "event": "Target event", "cities": "Signing cities"}


class OutcomeForm(CrispyModelForm):
    layout = Layout(row("title", "date"), "description", "evidence_url", "contributions")

    class Meta:
        model = PolicyOutcome
        fields = ["title", "date", "description", "evidence_url", "contributions"]
        widgets = {
            "date": DateInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
            "contributions": PickerSelectMultiple(url_name="engagements:contribution_picker"),
        }
        labels = {"evidence_url": "Evidence link", "contributions": "Related contributions"}


class TATransitionForm(forms.Form):
    """The hidden fields behind each workflow button on a TA request."""

    to_status = forms.ChoiceField(choices=TARequest.Status.choices)
    expected_status = forms.ChoiceField(choices=TARequest.Status.choices)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class InboxAcceptForm(forms.Form):
    """What a reviewer decides for a waiting email: whose engagement it is, with whom, where."""

    owner = UserChoiceField(queryset=staff_users(), label="MMC owner")
    cities = forms.ModelMultipleChoiceField(
        queryset=City.objects.all(), widget=PickerSelectMultiple(url_name="cities:city_picker")
    )
    contacts = forms.ModelMultipleChoiceField(
        queryset=Contact.objects.all(),
        required=False,
        label="People",
        widget=PickerSelectMultiple(url_name="cities:contact_picker"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.form_tag = False


EMAIL_FILE_TYPES = (".eml", ".msg")
EMAIL_FILE_MAX_MB = 25


class EmailUploadForm(forms.Form):
    """An .eml or Outlook .msg file dropped onto a city's or a person's page."""

    file = forms.FileField(label="Email file (.eml or .msg)")
    city = forms.ModelChoiceField(
        queryset=City.objects.all(), required=False, widget=forms.HiddenInput
    )
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.all(), required=False, widget=forms.HiddenInput
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(EMAIL_FILE_TYPES):
            raise forms.ValidationError(
                "This is not an email file: save the email as .eml (most mail programs) or "
                ".msg (Outlook) and drop that."
            )
        if upload.size > EMAIL_FILE_MAX_MB * 1024 * 1024:
            raise forms.ValidationError(f"The file is larger than {EMAIL_FILE_MAX_MB} MB.")
        return upload

    def clean(self):
        data = super().clean()
        if not data.get("city") and not data.get("contact"):
            raise forms.ValidationError("Drop the email onto a city's or a person's page.")
        return data


class InboxPersonForm(forms.ModelForm):
    """Add someone an email names as a person, from the inbox review."""

    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "email", "city"]
        widgets = {"city": PickerSelect("cities:city_picker")}
