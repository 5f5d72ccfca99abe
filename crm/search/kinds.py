"""What search looks at, kind by kind: the fields that name a record, its free text, how a hit
is shown. The PostgreSQL indexes (``crm`` migrations, ``search_indexes``) are built on exactly
these field lists, in this order; ``tests/test_search_backends.py`` checks that every kind's
lookup uses them.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import JSONObject
from django.urls import reverse

from cities.models import City, Contact, Mayor, MayoralTerm
from engagements.models import (
    Engagement,
    Event,
    Participation,
    PolicyContribution,
    PolicyOutcome,
    TARequest,
)
from outreach.models import Campaign
from pledges.models import Pledge, PledgeUpdate

from .expressions import Folded, HasWordLike, HasWordStartingWith, SearchWords


@dataclass(frozen=True, eq=False)
class Kind:
    key: str
    label: str
    model: type
    permission: str
    #: Fields that make up the record's name, in order ("Ana", "García"); empty for records
    #: that have no name of their own (a participation, a progress update).
    name: tuple
    #: Other names: aliases, emails, a campaign's subject. Matched like the name.
    aliases: tuple = ()
    #: Free text: notes, outcomes, descriptions. Matched word by word, never by typo.
    body: tuple = ()
    #: Extra values for the line under the title: field paths ("country__name")...
    display: tuple = ()
    #: ...and computed ones: {name: expression}.
    computed: dict = field(default_factory=dict)
    #: Among equally good matches, the newest first by this field (else by title).
    newest: str = ""
    list_url_name: str = ""
    #: The detail page: (url name, the value field holding its pk).
    detail: tuple = ("", "pk")
    describe: object = None  # row -> the line under the title
    heading: object = None  # row -> the title, when the record has no name of its own

    @property
    def typo_tolerant(self):
        return bool(self.name)

    def title_of(self, row):
        if self.heading:
            return self.heading(row)
        return " ".join(str(row[f]) for f in self.name if row[f])

    def url_of(self, row):
        url_name, pk_field = self.detail
        return reverse(url_name, args=[row[pk_field]])

    def words_expression(self):
        return SearchWords(*self.name, *self.aliases, *self.body)

    def names_expression(self):
        return Folded(*self.name, *self.aliases)

    def condition(self, words, typos):
        """Rows that may match: every word starts one of their words or, where ``typos``
        says so, is within a typo of one of their names."""
        condition = Q()
        for word, typo in zip(words, typos, strict=True):
            this_word = Q(HasWordStartingWith(self.words_expression(), word))
            if typo and self.typo_tolerant:
                this_word |= Q(HasWordLike(self.names_expression(), word))
            condition &= this_word
        return condition

    def row_values(self):
        """What a hit needs, as {key: expression}: the searched fields and the display ones."""
        paths = ["pk", *self.name, *self.aliases, *self.body, *self.display]
        if self.newest:
            paths.append(self.newest)
        values = {path: F(path) for path in dict.fromkeys(paths)}
        return {**values, **self.computed}

    def candidates(self, words, typos, limit):
        """At most ``limit`` rows that may match, each as one JSON object; in no particular
        order, so the database can stop at the first ``limit`` rows it meets."""
        return (
            self.model.objects.filter(self.condition(words, typos))
            .order_by()
            .values_list(Value(self.key), JSONObject(**self.row_values()))[:limit]
        )


def _join(*parts):
    return " · ".join(str(p) for p in parts if p)


def _label(choices, value):
    return choices(value).label if value else ""


def as_date(value):
    """A date from the ISO text a row carries ("2024-03-01", or a timestamp's first part)."""
    return date.fromisoformat(value[:10]) if value else None


def _date(value):
    return as_date(value).strftime("%-d %b %Y") if value else ""


_first_city = Subquery(
    City.objects.filter(engagements=OuterRef("pk")).order_by("name").values("name")[:1]
)
_current_city = Subquery(
    MayoralTerm.objects.current().filter(mayor=OuterRef("pk")).values("city__name")[:1]
)


KINDS = [
    Kind(
        key="cities",
        label="Cities",
        model=City,
        permission="cities.view_city",
        name=("name",),
        aliases=("aliases",),
        body=("notes",),
        display=("country__name", "status"),
        list_url_name="cities:city_list",
        detail=("cities:city_detail", "pk"),
        describe=lambda r: _join(r["country__name"], _label(City.Status, r["status"])),
    ),
    Kind(
        key="contacts",
        label="Contacts",
        model=Contact,
        permission="cities.view_contact",
        name=("first_name", "last_name"),
        aliases=("email",),
        body=("title", "organisation", "notes"),
        display=("city__name",),
        list_url_name="cities:contact_list",
        detail=("cities:contact_detail", "pk"),
        describe=lambda r: _join(r["title"], r["city__name"] or r["organisation"]),
    ),
    Kind(
        key="mayors",
        label="Mayors",
        model=Mayor,
        permission="cities.view_mayor",
        name=("full_name",),
        aliases=("email",),
        body=("notes",),
        computed={"city_name": _current_city},
        list_url_name="cities:mayor_list",
        detail=("cities:mayor_detail", "pk"),
        describe=lambda r: f"Mayor of {r['city_name']}" if r["city_name"] else "Not in office",
    ),
    Kind(
        key="engagements",
        label="Engagements",
        model=Engagement,
        permission="engagements.view_engagement",
        name=(),
        body=("summary", "outcome"),
        display=("kind",),
        computed={"city_name": _first_city},
        newest="date",
        list_url_name="engagements:engagement_list",
        detail=("engagements:engagement_detail", "pk"),
        heading=lambda r: r["summary"],
        describe=lambda r: _join(
            _date(r["date"]), _label(Engagement.Kind, r["kind"]), r["city_name"]
        ),
    ),
    Kind(
        key="ta_requests",
        label="TA requests",
        model=TARequest,
        permission="engagements.view_tarequest",
        name=("topic",),
        body=("description",),
        display=("city__name", "status"),
        newest="received_on",
        list_url_name="engagements:ta_list",
        detail=("engagements:ta_detail", "pk"),
        describe=lambda r: _join(r["city__name"], _label(TARequest.Status, r["status"])),
    ),
    Kind(
        key="events",
        label="Events",
        model=Event,
        permission="engagements.view_event",
        name=("name",),
        body=("place", "notes"),
        newest="start_date",
        list_url_name="engagements:event_list",
        detail=("engagements:event_detail", "pk"),
        describe=lambda r: _join(_date(r["start_date"]), r["place"]),
    ),
    Kind(
        key="participations",
        label="Participations",
        model=Participation,
        permission="engagements.view_participation",
        name=(),
        body=("outcome",),
        display=("event_id", "event__name", "city__name", "role"),
        list_url_name="engagements:participation_list",
        detail=("engagements:event_detail", "event_id"),
        heading=lambda r: f"{r['city__name']} at {r['event__name']}",
        describe=lambda r: _label(Participation.Role, r["role"]),
    ),
    Kind(
        key="contributions",
        label="Policy contributions",
        model=PolicyContribution,
        permission="engagements.view_policycontribution",
        name=("title",),
        body=("summary",),
        display=("kind",),
        newest="date",
        list_url_name="engagements:contribution_list",
        detail=("engagements:contribution_detail", "pk"),
        describe=lambda r: _join(_label(PolicyContribution.Kind, r["kind"]), _date(r["date"])),
    ),
    Kind(
        key="outcomes",
        label="Policy outcomes",
        model=PolicyOutcome,
        permission="engagements.view_policyoutcome",
        name=("title",),
        body=("description",),
        newest="date",
        list_url_name="engagements:outcome_list",
        detail=("engagements:outcome_detail", "pk"),
        describe=lambda r: _date(r["date"]),
    ),
    Kind(
        key="pledges",
        label="Pledges",
        model=Pledge,
        permission="pledges.view_pledge",
        name=("title",),
        body=("description",),
        display=("city__name", "status"),
        newest="announced_on",
        list_url_name="pledges:pledge_list",
        detail=("pledges:pledge_detail", "pk"),
        describe=lambda r: _join(r["city__name"], _label(Pledge.Status, r["status"])),
    ),
    Kind(
        key="pledge_updates",
        label="Pledge updates",
        model=PledgeUpdate,
        permission="pledges.view_pledgeupdate",
        name=(),
        body=("note",),
        display=("pledge_id", "pledge__title", "pledge__city__name", "percent"),
        newest="date",
        detail=("pledges:pledge_detail", "pledge_id"),
        heading=lambda r: f"{r['pledge__city__name']}: {r['pledge__title']}",
        describe=lambda r: _join(f"{r['percent']} %", _date(r["date"])),
    ),
    Kind(
        key="campaigns",
        label="Campaigns",
        model=Campaign,
        permission="outreach.add_campaign",
        name=("name",),
        aliases=("subject",),
        body=("body",),
        display=("status",),
        newest="created_at",
        list_url_name="outreach:campaign_list",
        detail=("outreach:campaign_detail", "pk"),
        describe=lambda r: _label(Campaign.Status, r["status"]),
    ),
]

KINDS_BY_KEY = {kind.key: kind for kind in KINDS}
