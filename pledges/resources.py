"""Import/export resources for pledges and their progress updates.

Columns, widgets and natural keys are declared here; crm.imports does the reading and writing.
"""

import contextlib

from django.core.exceptions import ValidationError
from import_export.fields import Field

from cities.resources import CityWidget
from crm.core.import_widgets import (
    ChoiceWidget,
    DateWidget,
    IntegerWidget,
    ReferenceWidget,
    TextWidget,
    UserWidget,
    add_key,
)
from crm.core.resources import CrmResource
from crm.core.text import fold
from engagements.resources import EventWidget, event_start_field

from .models import Framework, Pledge, PledgeUpdate
from .services import pledge_refresh_progress


class FrameworkWidget(ReferenceWidget):
    """Frameworks by title or short title, or "GCM 3" for a GCM objective; several with ";"."""

    noun = "framework"
    multiple = True

    def load(self):
        keys, labels = {}, {}
        for framework in Framework.objects.all():
            for name in (framework.title, framework.short_title, str(framework)):
                add_key(keys, fold(name), framework.pk)
            if framework.kind == Framework.Kind.GCM_OBJECTIVE and framework.number:
                add_key(keys, f"gcm {framework.number}", framework.pk)
                add_key(keys, f"gcm objective {framework.number}", framework.pk)
            labels[framework.pk] = framework.title
        return keys, labels

    def label_of(self, obj):
        return obj.title


class PledgeWidget(ReferenceWidget):
    """A pledge by its title, within the city named in the row's "City" column."""

    noun = "pledge"

    def __init__(self):
        super().__init__()
        self.cities = CityWidget()

    def load(self):
        self.cities.prepare()
        keys, labels = {}, {}
        for pk, title, city_id in Pledge.objects.values_list("pk", "title", "city_id"):
            add_key(keys, f"{fold(title)}|{city_id}", pk)
            add_key(keys, fold(title), pk)
            labels[pk] = title
        return keys, labels

    def key_variants(self, value, row):
        city = (row or {}).get("City")
        variants = []
        if city not in (None, ""):
            with contextlib.suppress(ValueError):
                variants.append(f"{fold(value)}|{self.cities.resolve_one(str(city), row)}")
        variants.append(fold(value))
        return variants

    def ambiguous_message(self, value):
        return f"Several cities have a pledge “{value}”: fill in the “City” column."

    label_fields = ("title",)

    def label_of(self, obj):
        return obj.title


class PledgeResource(CrmResource):
    entity = "pledges"
    city = Field(attribute="city", column_name="City", widget=CityWidget())
    title = Field(attribute="title", column_name="Title", widget=TextWidget())
    description = Field(attribute="description", column_name="Description", widget=TextWidget())
    frameworks = Field(attribute="frameworks", column_name="Frameworks", widget=FrameworkWidget())
    event = Field(attribute="event", column_name="Event", widget=EventWidget())
    event_start = event_start_field()
    announced_on = Field(attribute="announced_on", column_name="Announced on", widget=DateWidget())
    status = Field(
        attribute="status", column_name="Status", widget=ChoiceWidget(Pledge.Status.choices)
    )
    target_date = Field(attribute="target_date", column_name="Target date", widget=DateWidget())
    owner = Field(attribute="owner", column_name="Owner", widget=UserWidget())
    # Set from the progress updates (pledges.services): shown, never imported.
    progress_percent = Field(
        attribute="progress_percent",
        column_name="Progress %",
        widget=IntegerWidget(),
        readonly=True,
    )
    last_update_on = Field(
        attribute="last_update_on", column_name="Last update", widget=DateWidget(), readonly=True
    )

    required_fields = ("city", "title")
    export_select_related = ("city__country", "event", "owner")
    export_prefetch_related = ("frameworks",)

    class Meta:
        model = Pledge
        fields = (
            "city",
            "title",
            "description",
            "frameworks",
            "event",
            "event_start",
            "announced_on",
            "status",
            "target_date",
            "owner",
            "progress_percent",
            "last_update_on",
        )
        import_id_fields = ("city", "title")

    def validate_instance(self, instance, values, is_new):
        if instance.status == Pledge.Status.ACHIEVED and instance.progress_percent != 100:
            raise ValidationError(
                {
                    "status": "A pledge is achieved only at 100 %: import a progress update "
                    "at 100 % (pledge updates) instead."
                }
            )

    def row_label(self, values, instance=None):
        return f"{self.fields['city'].widget.render(values.get('city'))}: {values.get('title', '')}"


class PledgeUpdateResource(CrmResource):
    entity = "pledge-updates"
    city = Field(attribute="pledge__city", column_name="City", widget=CityWidget(), readonly=True)
    pledge = Field(attribute="pledge", column_name="Pledge", widget=PledgeWidget())
    date = Field(attribute="date", column_name="Date", widget=DateWidget())
    percent = Field(attribute="percent", column_name="Percent", widget=IntegerWidget())
    note = Field(attribute="note", column_name="Note", widget=TextWidget())
    evidence_url = Field(attribute="evidence_url", column_name="Evidence URL", widget=TextWidget())
    author = Field(attribute="author", column_name="Author", widget=UserWidget())

    required_fields = ("pledge", "date", "percent", "note")
    export_select_related = ("pledge__city__country", "author")

    class Meta:
        model = PledgeUpdate
        fields = ("city", "pledge", "date", "percent", "note", "evidence_url", "author")
        import_id_fields = ("pledge", "date")

    def row_label(self, values, instance=None):
        return (
            f"{self.fields['pledge'].widget.render(values.get('pledge'))} on {values.get('date')}"
        )

    def after_commit(self, created, updated, user):
        """The latest update sets its pledge's progress and status (pledges.services rules)."""
        pledge_ids = set(
            PledgeUpdate.objects.filter(pk__in=[*created, *updated]).values_list(
                "pledge_id", flat=True
            )
        )
        for pledge in Pledge.objects.filter(pk__in=pledge_ids):
            pledge_refresh_progress(pledge=pledge)

    def before_rollback(self, created, updated):
        return set(
            PledgeUpdate.objects.filter(pk__in=[*created, *updated]).values_list(
                "pledge_id", flat=True
            )
        )

    def after_rollback(self, pledge_ids):
        for pledge in Pledge.objects.filter(pk__in=pledge_ids):
            pledge_refresh_progress(pledge=pledge)
