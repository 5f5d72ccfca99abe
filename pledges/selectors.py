"""Reads about pledges that several pages share (the list filter, the city section, reminders)."""

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import Pledge


def stale_before(today=None):
    """The day before which a pledge's last news counts as stale (6 months by default)."""
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=settings.REMINDER_PLEDGE_STALE_DAYS)


def stalled_q(today=None):
    """Open pledges (not achieved, not withdrawn) with no progress update in 6 months: the
    latest update is older than that, or there is none and the pledge was announced before it.

    Achieved and withdrawn pledges are finished, so silence about them is not "stalled".
    """
    cutoff = stale_before(today)
    silent = Q(last_update_on__lt=cutoff) | Q(last_update_on__isnull=True, announced_on__lt=cutoff)
    return silent & ~Q(status__in=[Pledge.Status.ACHIEVED, Pledge.Status.WITHDRAWN])


def pledges_for_list():
    """Pledges with what a list row shows, in a fixed number of queries."""
    return Pledge.objects.select_related("city__country", "event", "owner").prefetch_related(
        "frameworks"
    )
