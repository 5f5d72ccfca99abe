"""Forms for the cities pages. Rules live in the models; forms add the friendly messages."""

import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.utils import timezone

from crm.core.widgets import PickerSelect, PlainSelect

from .models import BoardSeat, City, Contact, Mayor, MayoralTerm

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


class CrispyMixin:
    """The page template draws the <form> tag and buttons; crispy draws the fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


def add_years(day, years):
    """``day`` moved ``years`` years on; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class CityForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = City
        fields = [
            "name",
            "aliases",
            "country",
            "status",
            "networks",
            "tags",
            "population",
            "population_year",
            "migrant_population",
            "migrant_population_year",
            "figures_source",
            "notes",
        ]
        widgets = {
            "aliases": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 4}),
            # Small lists: a searchable box over the rendered options (no JSON endpoint needed).
            "country": PlainSelect(attrs={"data-picker": ""}),  # ~250 options, one pass
            "networks": forms.SelectMultiple(attrs={"data-picker": ""}),
            "tags": forms.SelectMultiple(attrs={"data-picker": ""}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        half = "col-12 col-md-6"
        self.helper.layout = Layout(
            Row(Column("name", css_class=half), Column("country", css_class=half)),
            "aliases",
            Row(
                Column("status", css_class="col-12 col-md-4"),
                Column("networks", css_class="col-12 col-md-8"),
            ),
            "tags",
            Fieldset(
                "Figures",
                Row(
                    Column("population", css_class=half), Column("population_year", css_class=half)
                ),
                Row(
                    Column("migrant_population", css_class=half),
                    Column("migrant_population_year", css_class=half),
                ),
                "figures_source",
            ),
            "notes",
        )


class ContactForm(CrispyMixin, forms.ModelForm):
    unsubscribed = forms.BooleanField(
        required=False,
        help_text="Ticked when the person asked to receive no more outreach emails.",
    )

    class Meta:
        model = Contact
        fields = [
            "first_name",
            "last_name",
            "title",
            "city",
            "organisation",
            "email",
            "phone",
            "languages",
            "is_focal_point",
            "consent_to_outreach",
            "notes",
        ]
        widgets = {
            "city": PickerSelect("cities:city_picker"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"organisation": "For people outside a city government (or in addition)."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unsubscribed"].initial = self.instance.unsubscribed_at is not None
        # Keep the checkbox next to the consent box.
        order = list(self.fields)
        order.remove("unsubscribed")
        order.insert(order.index("consent_to_outreach") + 1, "unsubscribed")
        self.order_fields(order)

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if email:
            twin = Contact.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).first()
            if twin:
                raise forms.ValidationError(
                    f"{twin.full_name} already uses this email address; "
                    "open that contact instead of adding a second one."
                )
        return email

    def clean_languages(self):
        codes = [c.strip().lower() for c in self.cleaned_data["languages"].split(",") if c.strip()]
        wrong = [c for c in codes if not LANGUAGE_CODE.match(c)]
        if wrong:
            raise forms.ValidationError(
                f"Use two-letter ISO 639-1 codes separated by commas (en, es, fr); "
                f"not understood: {', '.join(wrong)}."
            )
        return ", ".join(dict.fromkeys(codes))

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("city") and not cleaned.get("organisation", "").strip():
            self.add_error("city", "Give the contact's city or their organisation.")
        return cleaned

    def save(self, commit=True):
        contact = self.instance
        if self.cleaned_data["unsubscribed"] and contact.unsubscribed_at is None:
            contact.unsubscribed_at = timezone.now()
        elif not self.cleaned_data["unsubscribed"]:
            contact.unsubscribed_at = None
        return super().save(commit)


class MayorForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = Mayor
        fields = ["full_name", "email", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class MayoralTermStartForm(CrispyMixin, forms.Form):
    """A mayor takes office in a city: an existing mayor, or a new one by name."""

    city = forms.ModelChoiceField(City.objects.all(), widget=PickerSelect("cities:city_picker"))
    mayor = forms.ModelChoiceField(
        Mayor.objects.all(),
        required=False,
        widget=PickerSelect("cities:mayor_picker"),
        help_text="Pick a mayor already recorded, or type a new name below.",
    )
    new_mayor_name = forms.CharField(max_length=150, required=False, label="Or a new mayor")
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty while in office.",
    )
    end_current_term = forms.BooleanField(
        required=False,
        initial=True,
        label="End the city's current mayoral term the day before",
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("mayor") and not cleaned.get("new_mayor_name", "").strip():
            self.add_error("mayor", "Pick a mayor or type the name of a new one.")
        elif cleaned.get("mayor") and cleaned.get("new_mayor_name", "").strip():
            self.add_error("new_mayor_name", "Pick a mayor or type a new name, not both.")
        return cleaned


class MayoralTermForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = MayoralTerm
        fields = ["start_date", "end_date"]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
        }


class MayoralTermEndForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = MayoralTerm
        fields = ["end_date"]
        widgets = {"end_date": forms.DateInput(attrs={"type": "date"})}
        labels = {"end_date": "Last day in office"}
        help_texts = {"end_date": ""}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["end_date"].required = True
        self.fields["end_date"].initial = timezone.localdate()


class BoardSeatForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = BoardSeat
        fields = ["mayor", "role", "start_date", "end_date", "notes"]
        widgets = {
            "mayor": PickerSelect("cities:mayor_picker"),
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {"end_date": "Empty: a 2-year term from the start date."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["end_date"].required = False

    def clean(self):
        cleaned = super().clean()
        start = cleaned.get("start_date")
        if start and not cleaned.get("end_date") and "end_date" not in self.errors:
            cleaned["end_date"] = add_years(start, BoardSeat.TERM_YEARS)
        return cleaned
