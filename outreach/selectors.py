"""Reads shared by pages: what a person's calendar feed shows."""

from datetime import timedelta

from django.db.models import Prefetch
from django.utils import timezone

from cities.models import BoardSeat
from crm.core.roles import MANAGER
from engagements import calendar
from engagements.models import Engagement, Event, Participation, TARequest

# Events and board seats that ended longer ago than this are left out of feeds.
FEED_PAST_DAYS = 365


def can_see_board_seats_in_feed(user):
    return user.groups.filter(name=MANAGER).exists() and user.has_perm("cities.view_boardseat")


def calendar_feed(feed):
    """The iCalendar of ``feed``'s user: their open follow-ups, the due dates of the TA
    requests they own, the events they prepare a delegation for and those events' registration
    deadlines, and, for managers who ask, the days Leadership Board seats end. Only records the
    user may view, and of others' personal data only what those pages already show them."""
    user = feed.user
    since = timezone.localdate() - timedelta(days=FEED_PAST_DAYS)
    ics = calendar.new_calendar(f"MMC CRM — {user}")
    items = []
    if user.has_perm("engagements.view_engagement"):
        follow_ups = Engagement.objects.filter(
            owner=user, follow_up_date__isnull=False, follow_up_done=False
        ).prefetch_related("cities")
        items += [calendar.follow_up_item(e) for e in follow_ups.order_by("follow_up_date", "pk")]
    if user.has_perm("engagements.view_tarequest"):
        ta_requests = TARequest.objects.filter(
            owner=user, status__in=TARequest.OPEN_STATUSES, due_date__isnull=False
        ).select_related("city")
        items += [calendar.ta_due_item(t) for t in ta_requests.order_by("due_date", "pk")]
    if user.has_perm("engagements.view_event"):
        mine = Participation.objects.filter(owner=user).exclude(
            status=Participation.Status.CANCELLED
        )
        events = (
            Event.objects.filter(pk__in=mine.values("event_id"), start_date__gte=since)
            .prefetch_related(
                Prefetch(
                    "participations",
                    queryset=mine.select_related("city").order_by("city__name", "pk"),
                    to_attr="my_delegation",
                )
            )
            .order_by("start_date", "pk")
        )
        for event in events:
            delegation = ", ".join(
                f"{p.city.name} ({p.get_role_display().lower()})" for p in event.my_delegation
            )
            items += calendar.event_items(event, delegation)
    if feed.include_board_seats and can_see_board_seats_in_feed(user):
        seats = BoardSeat.objects.filter(end_date__gte=since).select_related("mayor")
        for seat in seats.order_by("end_date", "pk"):
            items.append(
                calendar.all_day(
                    uid=calendar.item_uid("board-seat-end", seat.pk),
                    summary=f"Board seat ends: {seat.mayor} ({seat.get_role_display()})",
                    first=seat.end_date,
                    url=seat.get_absolute_url(),
                )
            )
    for item in items:
        ics.add_component(item)
    return ics
