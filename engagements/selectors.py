"""Reads shared by several pages: "My work", the city timeline, who an email concerns."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Lower, TruncDate
from django.utils import timezone

from cities.models import Contact
from crm.models import User
from pledges.models import Pledge, PledgeUpdate

from .filters import DUE_WEEK_DAYS
from .models import (
    Engagement,
    Participation,
    PolicyContribution,
    TARequest,
    TATransition,
)

MY_WORK_LIMIT = 50


@dataclass
class MyWork:
    overdue: list
    due_week: list
    ta_requests: list
    participations: list
    today: datetime.date

    @property
    def is_empty(self):
        return not (self.overdue or self.due_week or self.ta_requests or self.participations)


def my_work(user, today=None):
    """What ``user`` should act on: follow-ups overdue and due in the next seven days, their
    open TA requests and the upcoming events they prepare. Four queries plus prefetches."""
    today = today or timezone.localdate()
    followups = (
        Engagement.objects.filter(owner=user, follow_up_done=False, follow_up_date__isnull=False)
        .prefetch_related("cities")
        .order_by("follow_up_date", "pk")
    )
    week_end = today + datetime.timedelta(days=DUE_WEEK_DAYS - 1)
    return MyWork(
        overdue=list(followups.filter(follow_up_date__lt=today)[:MY_WORK_LIMIT]),
        due_week=list(followups.filter(follow_up_date__range=(today, week_end))[:MY_WORK_LIMIT]),
        ta_requests=list(
            TARequest.objects.filter(owner=user, status__in=TARequest.OPEN_STATUSES)
            .select_related("city", "requested_by")
            .order_by(F("due_date").asc(nulls_last=True), "pk")[:MY_WORK_LIMIT]
        ),
        participations=list(
            Participation.objects.filter(owner=user)
            .exclude(status=Participation.Status.CANCELLED)
            .filter(
                Q(event__end_date__gte=today)
                | Q(event__end_date__isnull=True, event__start_date__gte=today)
            )
            .select_related("event", "city", "mayor", "contact")
            .order_by("event__start_date", "event__pk", "city__name")[:MY_WORK_LIMIT]
        ),
        today=today,
    )


# --- The city timeline ----------------------------------------------------------------------

TIMELINE_PER_PAGE = 15


@dataclass
class TimelineEntry:
    kind: str  # one of the keys of _TIMELINE_SOURCES
    date: datetime.date
    obj: object


def _keys(queryset, kind, date_expression):
    """(kind, pk, date) rows of one source, shaped alike so the sources can be UNIONed."""
    return (
        queryset.order_by()
        .annotate(
            entry_kind=Value(kind, output_field=CharField()),
            entry_pk=F("pk"),
            entry_date=date_expression,
        )
        .values("entry_kind", "entry_pk", "entry_date")
    )


def _sources(city):
    return {
        "engagement": (
            _keys(Engagement.objects.filter(cities=city), "engagement", F("date")),
            Engagement.objects.select_related("owner").prefetch_related("cities", "contacts"),
        ),
        "ta_request": (
            _keys(TARequest.objects.filter(city=city), "ta_request", F("received_on")),
            TARequest.objects.select_related("owner", "requested_by"),
        ),
        "ta_transition": (
            _keys(
                TATransition.objects.filter(request__city=city), "ta_transition", TruncDate("at")
            ),
            TATransition.objects.select_related("request", "by"),
        ),
        "participation": (
            _keys(Participation.objects.filter(city=city), "participation", F("event__start_date")),
            Participation.objects.select_related("event", "mayor", "contact"),
        ),
        "contribution": (
            _keys(PolicyContribution.objects.filter(cities=city), "contribution", F("date")),
            PolicyContribution.objects.select_related("event"),
        ),
        "pledge": (
            _keys(Pledge.objects.filter(city=city), "pledge", F("announced_on")),
            Pledge.objects.select_related("event"),
        ),
        "pledge_update": (
            _keys(PledgeUpdate.objects.filter(pledge__city=city), "pledge_update", F("date")),
            PledgeUpdate.objects.select_related("pledge", "author"),
        ),
    }


def city_timeline(city, page_number=1, per_page=TIMELINE_PER_PAGE):
    """One page of everything that happened with ``city``, newest first.

    The sources are merged in the database (a UNION of (kind, pk, date) rows), so only the
    page's rows are ever loaded: one query counts, one picks the page, then one (plus its
    prefetches) per kind of record on the page, whatever the city's history holds.
    Returns ``(page, entries)``.
    """
    sources = _sources(city)
    key_querysets = [keys for keys, _ in sources.values()]
    merged = (
        key_querysets[0]
        .union(*key_querysets[1:], all=True)
        .order_by("-entry_date", "entry_kind", "-entry_pk")
    )
    page = Paginator(merged, per_page).get_page(page_number)
    rows = list(page.object_list)
    wanted = {}
    for row in rows:
        wanted.setdefault(row["entry_kind"], []).append(row["entry_pk"])
    loaded = {kind: sources[kind][1].in_bulk(pks) for kind, pks in wanted.items()}
    entries = [
        TimelineEntry(
            kind=row["entry_kind"],
            date=row["entry_date"],
            obj=loaded[row["entry_kind"]][row["entry_pk"]],
        )
        for row in rows
        if row["entry_pk"] in loaded[row["entry_kind"]]
    ]
    return page, entries


def city_participations(city, limit=10):
    """The city's latest participations (and how many there are in all), for the city page."""
    queryset = (
        Participation.objects.filter(city=city)
        .select_related("event", "mayor", "contact")
        .order_by("-event__start_date", "-pk")
    )
    return list(queryset[:limit]), queryset.count()


# --- Who an email concerns ------------------------------------------------------------------


def staff_users_by_address(addresses):
    """{address: user} for the active users among ``addresses`` (lower-case)."""
    if not addresses:
        return {}
    users = (
        User.objects.annotate(address=Lower("email"))
        .filter(is_active=True, address__in=addresses)
        .order_by("pk")
    )
    found = {}
    for user in users:
        found.setdefault(user.address, user)
    return found


def people_by_addresses(addresses):
    """The people any of ``addresses`` (lower-case) belongs to, with their cities."""
    if not addresses:
        return []
    return list(Contact.objects.filter(email__in=addresses).select_related("city"))


def email_addresses(email):
    """Each address on an email with what the CRM knows of it: a staff user, a person, the
    CRM mailbox itself, or nobody (``kind``: staff, person, mailbox, unknown)."""
    names = {}
    for name, address in [
        (email.from_name, email.from_address),
        *email.to_addresses,
        *email.cc_addresses,
    ]:
        address = (address or "").lower()
        if address and not names.get(address):
            names[address] = name
    addresses = email.addresses()
    staff = staff_users_by_address(addresses)
    people = {p.email: p for p in people_by_addresses(addresses)}
    rows = []
    for address in addresses:
        if address in staff:
            kind = "staff"
        elif address in people:
            kind = "person"
        elif address == settings.CRM_INBOX_ADDRESS:
            kind = "mailbox"
        else:
            kind = "unknown"
        first, _, last = (names.get(address) or "").partition(" ")
        rows.append(
            {
                "address": address,
                "name": names.get(address, ""),
                "first_name": first,
                "last_name": last,
                "kind": kind,
                "person": people.get(address),
                "user": staff.get(address),
                "is_sender": address == email.from_address,
            }
        )
    return rows


def email_people(email):
    """The known people among an email's addresses."""
    return [row["person"] for row in email_addresses(email) if row["kind"] == "person"]
