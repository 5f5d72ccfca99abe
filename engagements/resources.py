"""Import/export resources for engagements, TA requests, events and participations.

Columns, widgets and natural keys are declared here; crm.imports does the reading and writing.
"""

from import_export.fields import Field

from cities.resources import CityWidget, ContactWidget, MayorWidget
from crm.core.import_widgets import (
    BooleanWidget,
    ChoiceWidget,
    DateWidget,
    ReferenceWidget,
    TextWidget,
    UserWidget,
    add_key,
)
from crm.core.resources import CrmResource
from crm.core.text import fold

from .models import Engagement, Event, Participation, Process, TARequest

EVENT_START_COLUMN = "Event start date"


class EventWidget(ReferenceWidget):
    """An event by name; the "Event start date" column tells apart yearly events of one name."""

    noun = "event"

    def load(self):
        keys, labels = {}, {}
        for pk, name, start in Event.objects.values_list("pk", "name", "start_date"):
            add_key(keys, fold(name), pk)
            add_key(keys, f"{fold(name)}|{start.isoformat()}", pk)
            labels[pk] = name
        return keys, labels

    def key_variants(self, value, row):
        variants = []
        start = (row or {}).get(EVENT_START_COLUMN)
        if start not in (None, ""):
            try:
                day = DateWidget().clean(start, date_order=self.date_order)
            except ValueError:
                day = None
            if day:
                variants.append(f"{fold(value)}|{day.isoformat()}")
        variants.append(fold(value))
        return variants

    date_order = "iso"

    def clean(self, value, row=None, date_order="iso", **kwargs):
        self.date_order = date_order
        return super().clean(value, row, **kwargs)

    def ambiguous_message(self, value):
        return f"Several events are called “{value}”: fill in the “{EVENT_START_COLUMN}” column."

    label_fields = ("name",)

    def label_of(self, obj):
        return obj.name


def event_start_field():
    return Field(
        attribute="event__start_date",
        column_name=EVENT_START_COLUMN,
        widget=DateWidget(),
        readonly=True,
    )


class EngagementResource(CrmResource):
    entity = "engagements"
    date = Field(attribute="date", column_name="Date", widget=DateWidget())
    kind = Field(attribute="kind", column_name="Kind", widget=ChoiceWidget(Engagement.Kind.choices))
    cities = Field(attribute="cities", column_name="Cities", widget=CityWidget(multiple=True))
    contacts = Field(
        attribute="contacts", column_name="Contacts", widget=ContactWidget(multiple=True)
    )
    owner = Field(
        attribute="owner", column_name="Owner", widget=UserWidget(default_to_importer=True)
    )
    summary = Field(attribute="summary", column_name="Summary", widget=TextWidget())
    outcome = Field(attribute="outcome", column_name="Outcome", widget=TextWidget())
    follow_up_date = Field(
        attribute="follow_up_date", column_name="Follow-up date", widget=DateWidget()
    )
    follow_up_done = Field(
        attribute="follow_up_done", column_name="Follow-up done", widget=BooleanWidget()
    )

    required_fields = ("date", "summary", "cities")
    export_select_related = ("owner",)
    export_prefetch_related = ("cities__country", "contacts")

    class Meta:
        model = Engagement
        fields = (
            "date",
            "kind",
            "cities",
            "contacts",
            "owner",
            "summary",
            "outcome",
            "follow_up_date",
            "follow_up_done",
        )
        import_id_fields = ("date", "summary")

    def row_label(self, values, instance=None):
        return f"{values.get('date')}: {values.get('summary', '')}"


class TARequestResource(CrmResource):
    entity = "ta-requests"
    city = Field(attribute="city", column_name="City", widget=CityWidget())
    topic = Field(attribute="topic", column_name="Topic", widget=TextWidget())
    description = Field(attribute="description", column_name="Description", widget=TextWidget())
    priority = Field(
        attribute="priority",
        column_name="Priority",
        widget=ChoiceWidget(TARequest.Priority.choices),
    )
    requested_by = Field(
        attribute="requested_by", column_name="Requested by", widget=ContactWidget()
    )
    owner = Field(attribute="owner", column_name="Owner", widget=UserWidget())
    received_on = Field(attribute="received_on", column_name="Received on", widget=DateWidget())
    due_date = Field(attribute="due_date", column_name="Due date", widget=DateWidget())
    # The workflow changes the status (with who and when), so an import only shows it.
    status = Field(
        attribute="status",
        column_name="Status",
        widget=ChoiceWidget(TARequest.Status.choices),
        readonly=True,
    )
    delivered_on = Field(
        attribute="delivered_on", column_name="Delivered on", widget=DateWidget(), readonly=True
    )

    required_fields = ("city", "topic", "received_on")
    export_select_related = ("city__country", "owner", "requested_by")

    class Meta:
        model = TARequest
        fields = (
            "city",
            "topic",
            "description",
            "priority",
            "requested_by",
            "owner",
            "received_on",
            "due_date",
            "status",
            "delivered_on",
        )
        import_id_fields = ("city", "topic", "received_on")

    def row_label(self, values, instance=None):
        return f"{self.fields['city'].widget.render(values.get('city'))}: {values.get('topic', '')}"


class EventResource(CrmResource):
    entity = "events"
    name = Field(attribute="name", column_name="Name", widget=TextWidget())
    process = Field(
        attribute="process", column_name="Process", widget=ChoiceWidget(Process.choices)
    )
    start_date = Field(attribute="start_date", column_name="Start date", widget=DateWidget())
    end_date = Field(attribute="end_date", column_name="End date", widget=DateWidget())
    place = Field(attribute="place", column_name="Place", widget=TextWidget())
    registration_deadline = Field(
        attribute="registration_deadline",
        column_name="Registration deadline",
        widget=DateWidget(),
    )
    website = Field(attribute="website", column_name="Website", widget=TextWidget())
    notes = Field(attribute="notes", column_name="Notes", widget=TextWidget())

    required_fields = ("name", "process", "start_date")

    class Meta:
        model = Event
        fields = (
            "name",
            "process",
            "start_date",
            "end_date",
            "place",
            "registration_deadline",
            "website",
            "notes",
        )
        import_id_fields = ("start_date", "name")

    def row_label(self, values, instance=None):
        return f"{values.get('name', '')} ({values.get('start_date')})"


class ParticipationResource(CrmResource):
    entity = "participations"
    event = Field(attribute="event", column_name="Event", widget=EventWidget())
    event_start = event_start_field()
    city = Field(attribute="city", column_name="City", widget=CityWidget())
    role = Field(
        attribute="role", column_name="Role", widget=ChoiceWidget(Participation.Role.choices)
    )
    status = Field(
        attribute="status",
        column_name="Status",
        widget=ChoiceWidget(Participation.Status.choices),
    )
    mayor = Field(attribute="mayor", column_name="Mayor", widget=MayorWidget())
    contact = Field(attribute="contact", column_name="Contact", widget=ContactWidget())
    owner = Field(attribute="owner", column_name="Owner", widget=UserWidget())
    outcome = Field(attribute="outcome", column_name="Outcome", widget=TextWidget())

    required_fields = ("event", "city", "role")
    export_select_related = ("event", "city__country", "mayor", "contact", "owner")

    class Meta:
        model = Participation
        fields = (
            "event",
            "event_start",
            "city",
            "role",
            "status",
            "mayor",
            "contact",
            "owner",
            "outcome",
        )
        import_id_fields = ("event", "city", "role")

    def row_label(self, values, instance=None):
        f = self.fields
        return (
            f"{f['city'].widget.render(values.get('city'))} at "
            f"{f['event'].widget.render(values.get('event'))} ({values.get('role', '')})"
        )
