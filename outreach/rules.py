"""The reminder rules: each one a function that finds what is due on a given day.

A rule yields ``Due`` tuples, never rows: ``outreach.services.reminders_create_due`` turns them
into Reminder rows keyed by (rule, record, due date, recipient), so running a rule again finds
its rows already there. The due date in the key is the record's own date (the follow-up date,
the TA due date, the seat's end...), so an overdue record is reminded once, not every day,
and a changed date makes a new reminder. Thresholds come from settings (REMINDER_*).
"""

from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db.models import F
from django.db.models.functions import Coalesce
from django.urls import reverse

from cities.models import BoardSeat
from crm.core.roles import MANAGER
from crm.models import User
from engagements.models import Engagement, Event, Participation, TARequest
from pledges.models import Pledge
from pledges.selectors import stalled_q

from .models import Rule


class Due(NamedTuple):
    rule: str
    model: type
    object_id: int
    due_date: object
    recipient_id: int
    title: str
    link: str


def _managers():
    return list(
        User.objects.filter(groups__name=MANAGER, is_active=True)
        .distinct()
        .values_list("pk", flat=True)
    )


def follow_ups_due(today):
    """An engagement whose follow-up is due today or overdue → its owner."""
    rows = Engagement.objects.filter(
        follow_up_done=False,
        follow_up_date__isnull=False,
        follow_up_date__lte=today,
        owner__is_active=True,
    ).values_list("pk", "follow_up_date", "owner_id", "summary")
    for pk, due, owner_id, summary in rows.iterator(chunk_size=2000):
        yield Due(
            Rule.FOLLOW_UP,
            Engagement,
            pk,
            due,
            owner_id,
            f"Follow up: {summary}"[:300],
            reverse("engagements:engagement_detail", args=[pk]),
        )


def ta_requests_due(today):
    """An open TA request due within a few days or overdue → its owner; a week late → managers."""
    soon = today + timedelta(days=settings.REMINDER_TA_DUE_SOON_DAYS)
    escalate_before = today - timedelta(days=settings.REMINDER_TA_ESCALATE_DAYS)
    rows = list(
        TARequest.objects.filter(
            status__in=TARequest.OPEN_STATUSES, due_date__isnull=False, due_date__lte=soon
        ).values_list("pk", "due_date", "owner_id", "owner__is_active", "topic", "city__name")
    )
    managers = _managers() if any(row[1] <= escalate_before for row in rows) else []
    for pk, due, owner_id, owner_active, topic, city in rows:
        link = reverse("engagements:ta_detail", args=[pk])
        if owner_id and owner_active:
            when = "overdue" if due < today else f"due {due:%d %b}"
            yield Due(
                Rule.TA_DUE,
                TARequest,
                pk,
                due,
                owner_id,
                f"TA request {when}: {city}: {topic}",
                link,
            )
        if due <= escalate_before:
            late = (today - due).days
            for manager_id in managers:
                yield Due(
                    Rule.TA_ESCALATION,
                    TARequest,
                    pk,
                    due,
                    manager_id,
                    f"TA request {late} days late: {city}: {topic}",
                    link,
                )


def pledges_to_check_in(today):
    """A live pledge with no progress update for six months → its owner, for a check-in."""
    stale_days = settings.REMINDER_PLEDGE_STALE_DAYS
    # The same definition as the pledge list's "stalled" filter, so the two always agree.
    rows = (
        Pledge.objects.filter(stalled_q(today), owner__isnull=False, owner__is_active=True)
        .annotate(last_activity=Coalesce(F("last_update_on"), F("announced_on")))
        .values_list("pk", "last_activity", "owner_id", "title", "city__name")
    )
    for pk, last_activity, owner_id, title, city in rows:
        yield Due(
            Rule.PLEDGE_CHECK_IN,
            Pledge,
            pk,
            # Keyed on the check-in date: a new progress update starts a new six-month cycle.
            last_activity + timedelta(days=stale_days),
            owner_id,
            f"Pledge check-in (no update since {last_activity:%d %b %Y}): {city}: {title}"[:300],
            reverse("pledges:pledge_detail", args=[pk]),
        )


def board_seats_ending(today):
    """A Leadership Board seat ending within the next weeks → every manager."""
    rows = list(
        BoardSeat.objects.filter(
            end_date__gte=today,
            end_date__lte=today + timedelta(days=settings.REMINDER_BOARD_SEAT_DAYS),
        ).values_list("pk", "end_date", "mayor__full_name", "mayor_id")
    )
    if not rows:
        return
    managers = _managers()
    for pk, end_date, mayor_name, mayor_id in rows:
        for manager_id in managers:
            yield Due(
                Rule.BOARD_SEAT_ENDING,
                BoardSeat,
                pk,
                end_date,
                manager_id,
                f"Board seat of {mayor_name} ends on {end_date:%d %b %Y}",
                reverse("cities:mayor_detail", args=[mayor_id]),
            )


def event_deadlines(today):
    """An event's registration deadline within two weeks → owners of its planned participations."""
    rows = (
        Participation.objects.filter(
            status=Participation.Status.PLANNED,
            owner__isnull=False,
            owner__is_active=True,
            event__registration_deadline__gte=today,
            event__registration_deadline__lte=today
            + timedelta(days=settings.REMINDER_EVENT_DEADLINE_DAYS),
        )
        .values_list("event_id", "event__registration_deadline", "owner_id", "event__name")
        .distinct()
    )
    for event_id, deadline, owner_id, name in rows:
        yield Due(
            Rule.EVENT_DEADLINE,
            Event,
            event_id,
            deadline,
            owner_id,
            f"Registration for {name} closes on {deadline:%d %b %Y}",
            reverse("engagements:event_detail", args=[event_id]),
        )


RULES = {
    Rule.FOLLOW_UP: follow_ups_due,
    # TA_DUE and TA_ESCALATION come from one pass over the due TA requests.
    Rule.TA_DUE: ta_requests_due,
    Rule.PLEDGE_CHECK_IN: pledges_to_check_in,
    Rule.BOARD_SEAT_ENDING: board_seats_ending,
    Rule.EVENT_DEADLINE: event_deadlines,
}
