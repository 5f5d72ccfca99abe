"""Import/export resources for cities, contacts, mayors and their terms, board seats.

Columns, widgets and natural keys are declared here; crm.imports does the reading and writing.
"""

from django.db.models.functions import Lower
from import_export.fields import Field

from crm.core.import_widgets import (
    MULTI_SEPARATOR,
    BooleanWidget,
    ChoiceWidget,
    DateWidget,
    EmailWidget,
    IntegerWidget,
    PendingRecord,
    ReferenceWidget,
    TextWidget,
    add_key,
    cached_fold,
    is_blank,
)
from crm.core.resources import CrmResource
from crm.core.text import fold

from .models import BoardSeat, City, CityNetwork, Contact, Country, Mayor, MayoralTerm, Tag


class CountryWidget(ReferenceWidget):
    """A country by ISO code (BR) or name (Brazil)."""

    noun = "country"

    def load(self):
        keys, labels = {}, {}
        for pk, code, name in Country.objects.values_list("pk", "code", "name"):
            add_key(keys, fold(code), pk)
            add_key(keys, fold(name), pk)
            labels[pk] = code
        return keys, labels

    label_fields = ("code",)

    def label_of(self, obj):
        return obj.code


class CityWidget(ReferenceWidget):
    """A city as "São Paulo, BR" (or "Sao Paulo, Brazil"); the name alone when unambiguous.

    Names and aliases match ignoring accents and case, so "Sao Paulo, BR" finds São Paulo.
    """

    noun = "city"

    def load(self):
        keys, labels = {}, {}
        rows = City.objects.values_list("pk", "name", "aliases", "country__code", "country__name")
        for pk, name, aliases, code, country_name in rows:
            names = [name, *(line for line in aliases.splitlines() if line.strip())]
            for each in names:
                folded = fold(each)
                add_key(keys, folded, pk)
                add_key(keys, f"{folded}|{fold(code)}", pk)
                add_key(keys, f"{folded}|{fold(country_name)}", pk)
            labels[pk] = f"{name}, {code}"
        return keys, labels

    def key_variants(self, value, row):
        variants = []
        if "," in value:
            name, country = value.rsplit(",", 1)
            variants.append(f"{cached_fold(name)}|{cached_fold(country)}")
        variants.append(cached_fold(value))
        return variants

    def ambiguous_message(self, value):
        return f"“{value}” matches cities in several countries: write it as “{value}, XX”."

    label_fields = ("name", "country__code")

    def label_of(self, obj):
        return f"{obj.name}, {obj.country.code}"

    def label_from_values(self, values):
        name, code = values
        return "" if name is None else f"{name}, {code}"


class NamedWidget(ReferenceWidget):
    """Many-to-many by name: networks (name or short name), tags."""

    multiple = True

    def __init__(self, model, names, noun):
        super().__init__()
        self.model, self.names, self.noun = model, names, noun

    def load(self):
        keys, labels = {}, {}
        for pk, *names in self.model.objects.values_list("pk", *self.names):
            for name in names:
                add_key(keys, fold(name), pk)
            labels[pk] = next(name for name in [*names, str(pk)] if name)
        return keys, labels

    def label_of(self, obj):
        """The first of ``names`` that is filled in (a network's short name, else its name)."""
        return next((value for value in (getattr(obj, n) for n in self.names) if value), "")


class ContactWidget(ReferenceWidget):
    """A contact by email (any case)."""

    noun = "contact with the email"

    def load(self):
        keys = {}
        for pk, email in Contact.objects.exclude(email="").values_list("pk", "email"):
            keys[email.lower()] = pk
        return keys, {pk: email for email, pk in keys.items()}

    def key_variants(self, value, row):
        return [value.strip().lower()]

    label_fields = ("email",)

    def label_of(self, obj):
        return obj.email


class MayorWidget(ReferenceWidget):
    """A mayor by full name. With ``create_missing`` an unknown name becomes a new mayor."""

    noun = "mayor"

    def __init__(self, create_missing=False):
        super().__init__()
        self.create_missing = create_missing
        self.pending = {}

    def load(self):
        keys, labels = {}, {}
        for pk, name in Mayor.objects.values_list("pk", "full_name"):
            add_key(keys, fold(name), pk)
            labels[pk] = name
        return keys, labels

    def resolve_one(self, value, row):
        try:
            return super().resolve_one(value, row)
        except ValueError:
            if not self.create_missing or fold(value) in self.keys:
                raise
        key = fold(value)
        if key not in self.pending:
            self.pending[key] = PendingRecord(Mayor(full_name=value, name_key=key), value)
        return self.pending[key]

    label_fields = ("full_name",)

    def label_of(self, obj):
        return obj.full_name


class AliasesWidget(TextWidget):
    """Aliases are one per line in the database, "; "-separated in a cell."""

    def clean(self, value, row=None, **kwargs):
        text = super().clean(value, row, **kwargs)
        parts = [p.strip() for p in text.replace("\n", MULTI_SEPARATOR).split(MULTI_SEPARATOR)]
        return "\n".join(p for p in parts if p)

    def render(self, value, obj=None, **kwargs):
        return f"{MULTI_SEPARATOR} ".join(line for line in (value or "").splitlines() if line)


class CityResource(CrmResource):
    entity = "cities"
    name = Field(attribute="name", column_name="Name", widget=TextWidget())
    country = Field(attribute="country", column_name="Country", widget=CountryWidget())
    region = Field(
        attribute="country__region",
        column_name="Region",
        widget=ChoiceWidget(Country.Region.choices),
        readonly=True,
    )
    aliases = Field(attribute="aliases", column_name="Aliases", widget=AliasesWidget())
    status = Field(
        attribute="status", column_name="Status", widget=ChoiceWidget(City.Status.choices)
    )
    population = Field(attribute="population", column_name="Population", widget=IntegerWidget())
    population_year = Field(
        attribute="population_year", column_name="Population year", widget=IntegerWidget()
    )
    migrant_population = Field(
        attribute="migrant_population", column_name="Migrant population", widget=IntegerWidget()
    )
    migrant_population_year = Field(
        attribute="migrant_population_year",
        column_name="Migrant population year",
        widget=IntegerWidget(),
    )
    figures_source = Field(
        attribute="figures_source", column_name="Figures source", widget=TextWidget()
    )
    networks = Field(
        attribute="networks",
        column_name="Networks",
        widget=NamedWidget(CityNetwork, ("short_name", "name"), "city network"),
    )
    tags = Field(attribute="tags", column_name="Tags", widget=NamedWidget(Tag, ("name",), "tag"))
    notes = Field(attribute="notes", column_name="Notes", widget=TextWidget())

    export_select_related = ("country",)
    export_prefetch_related = ("networks", "tags")

    class Meta:
        model = City
        fields = (
            "name",
            "country",
            "region",
            "aliases",
            "status",
            "population",
            "population_year",
            "migrant_population",
            "migrant_population_year",
            "figures_source",
            "networks",
            "tags",
            "notes",
        )
        import_id_fields = ("name", "country")

    def natural_key(self, values):
        if is_blank(values.get("name")) or values.get("country") is None:
            return None
        return (fold(values["name"]), values["country"])

    def find_existing(self, keys):
        """Match on the folded name or any alias, within the country."""
        if not keys:
            return {}
        found = {}
        for city in City.objects.filter(country_id__in={country for _, country in keys}):
            for name in [city.name, *city.alias_list]:
                key = (fold(name), city.country_id)
                if key in keys:
                    found.setdefault(key, city)
        return found

    def prepare_instance(self, instance):
        instance.refresh_search_fields()

    def row_label(self, values, instance=None):
        if instance is not None:
            return f"{instance.name}, {self.fields['country'].widget.render(instance.country_id)}"
        return f"{values.get('name', '')}, {self.fields['country'].widget.render(values.get('country'))}"


class ContactResource(CrmResource):
    entity = "contacts"
    first_name = Field(attribute="first_name", column_name="First name", widget=TextWidget())
    last_name = Field(attribute="last_name", column_name="Last name", widget=TextWidget())
    email = Field(attribute="email", column_name="Email", widget=EmailWidget())
    title = Field(attribute="title", column_name="Title", widget=TextWidget())
    city = Field(attribute="city", column_name="City", widget=CityWidget())
    organisation = Field(attribute="organisation", column_name="Organisation", widget=TextWidget())
    phone = Field(attribute="phone", column_name="Phone", widget=TextWidget())
    languages = Field(attribute="languages", column_name="Languages", widget=TextWidget())
    is_focal_point = Field(
        attribute="is_focal_point", column_name="Focal point", widget=BooleanWidget()
    )
    consent_to_outreach = Field(
        attribute="consent_to_outreach", column_name="Consent to outreach", widget=BooleanWidget()
    )
    notes = Field(attribute="notes", column_name="Notes", widget=TextWidget())

    required_fields = ("first_name",)
    column_aliases = {"e-mail": "email", "e mail": "email", "organization": "organisation"}
    export_select_related = ("city__country",)

    class Meta:
        model = Contact
        fields = (
            "first_name",
            "last_name",
            "email",
            "title",
            "city",
            "organisation",
            "phone",
            "languages",
            "is_focal_point",
            "consent_to_outreach",
            "notes",
        )
        import_id_fields = ("email",)

    def natural_key(self, values):
        """By email; a contact without one by name within the city."""
        if values.get("email"):
            return ("email", values["email"].lower())
        name = fold(f"{values.get('first_name', '')} {values.get('last_name', '')}")
        return ("name", name, values.get("city")) if name else None

    def find_existing(self, keys):
        emails = [key[1] for key in keys if key[0] == "email"]
        names = [key[1] for key in keys if key[0] == "name"]
        found = {}
        if emails:
            # Lower(): an address written in capitals by a bulk load still matches (and the
            # unique constraint is on Lower("email") too).
            matches = Contact.objects.annotate(email_lower=Lower("email")).filter(
                email_lower__in=emails
            )
            for contact in matches:
                found[("email", contact.email_lower)] = contact
        if names:
            for contact in Contact.objects.filter(name_key__in=names, email=""):
                key = ("name", contact.name_key, contact.city_id)
                if key in keys:
                    found.setdefault(key, contact)
        return found

    def prepare_instance(self, instance):
        # What Contact.save() does; bulk writes skip save().
        instance.email = instance.email.strip().lower()
        instance.languages = ", ".join(code.lower() for code in instance.language_list)
        instance.name_key = fold(instance.full_name)

    def row_label(self, values, instance=None):
        if instance is not None:
            return instance.email or instance.full_name
        return (
            values.get("email") or f"{values.get('first_name', '')} {values.get('last_name', '')}"
        )


class MayoralTermResource(CrmResource):
    """Mayors and their terms, one row per term; a new mayor's name creates the mayor."""

    entity = "mayors"
    list_models = (Mayor,)
    mayor = Field(attribute="mayor", column_name="Mayor", widget=MayorWidget(create_missing=True))
    city = Field(attribute="city", column_name="City", widget=CityWidget())
    start_date = Field(attribute="start_date", column_name="Term start", widget=DateWidget())
    end_date = Field(attribute="end_date", column_name="Term end", widget=DateWidget())

    required_fields = ("mayor", "city", "start_date")
    export_select_related = ("mayor", "city__country")

    class Meta:
        model = MayoralTerm
        fields = ("mayor", "city", "start_date", "end_date")
        import_id_fields = ("start_date", "mayor", "city")

    def queryset_for_list(self, queryset):
        return MayoralTerm.objects.filter(mayor__in=queryset).order_by("mayor__full_name", "pk")

    def row_label(self, values, instance=None):
        w = self.fields
        return (
            f"{w['mayor'].widget.render(values.get('mayor'))} — "
            f"{w['city'].widget.render(values.get('city'))} from {values.get('start_date')}"
        )


class BoardSeatResource(CrmResource):
    entity = "board-seats"
    mayor = Field(attribute="mayor", column_name="Mayor", widget=MayorWidget())
    role = Field(attribute="role", column_name="Role", widget=ChoiceWidget(BoardSeat.Role.choices))
    start_date = Field(attribute="start_date", column_name="Start date", widget=DateWidget())
    end_date = Field(attribute="end_date", column_name="End date", widget=DateWidget())
    notes = Field(attribute="notes", column_name="Notes", widget=TextWidget())

    required_fields = ("mayor", "start_date", "end_date")
    export_select_related = ("mayor",)

    class Meta:
        model = BoardSeat
        fields = ("mayor", "role", "start_date", "end_date", "notes")
        import_id_fields = ("start_date", "mayor")

    def row_label(self, values, instance=None):
        return f"{self.fields['mayor'].widget.render(values.get('mayor'))} from {values.get('start_date')}"
