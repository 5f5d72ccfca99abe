"""Writes about pledges that span models: progress updates set the pledge's progress and,
where the rules say so, its status. Each change is saved through the model, so it lands in
the pledge's history with who made it.

Status rules, applied when an update is added (unless the person picks a status):
- the latest update (by date, then entry order) sets ``progress_percent`` and
  ``last_update_on``; a back-dated update does not override a later one;
- reaching 100 % marks the pledge achieved (the city reports it done); "achieved" is only
  allowed at 100 %, so if the latest update goes back below 100 %, an achieved pledge returns to
  "in progress";
- news on an announced or stalled pledge moves it to "in progress"; a withdrawn pledge stays
  withdrawn.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Pledge, PledgeUpdate

ACHIEVED = Pledge.Status.ACHIEVED
IN_PROGRESS = Pledge.Status.IN_PROGRESS


def suggested_status(*, current, percent):
    """The status a pledge should have once its latest update reports ``percent``."""
    if current == Pledge.Status.WITHDRAWN:
        return current
    if percent == 100:
        return ACHIEVED
    if current in (ACHIEVED, Pledge.Status.ANNOUNCED, Pledge.Status.STALLED):
        return IN_PROGRESS
    return current


def _latest_update(pledge):
    return pledge.updates.order_by("-date", "-pk").first()


@transaction.atomic
def pledge_add_update(
    *, pledge, date, note, percent, evidence_url="", author, status=None
) -> PledgeUpdate:
    """Record a progress update; the latest one sets the pledge's progress.

    ``status`` overrides the automatic status (see the module doc); "achieved" needs the
    pledge's resulting progress to be 100 %. Bad input raises ``ValidationError`` and
    changes nothing.
    """
    pledge = Pledge.objects.select_for_update().get(pk=pledge.pk)
    update = PledgeUpdate(
        pledge=pledge,
        date=date,
        note=note,
        percent=percent,
        evidence_url=evidence_url or "",
        author=author,
    )
    update.full_clean()
    update.save()
    _apply_latest(pledge, status=status, added=update)
    return update


@transaction.atomic
def pledge_refresh_progress(*, pledge, status=None) -> Pledge:
    """Recompute progress from the updates (after one was edited or deleted)."""
    pledge = Pledge.objects.select_for_update().get(pk=pledge.pk)
    _apply_latest(pledge, status=status)
    return pledge


def _apply_latest(pledge, *, status, added=None):
    latest = _latest_update(pledge)
    percent = latest.percent if latest else 0
    last_update_on = latest.date if latest else None
    if status is None and latest is not None:
        status = suggested_status(current=pledge.status, percent=percent)
    elif status is None:
        # No updates left: progress is 0 %, which an achieved pledge cannot have.
        status = IN_PROGRESS if pledge.status == ACHIEVED else pledge.status
    elif status == ACHIEVED and percent != 100:
        if added is not None and latest is not None and latest.pk != added.pk:
            message = (
                f"Achieved means 100 %, and a later update ({latest.date:%d %b %Y}) reports "
                f"{percent} %. Pick another status, or date this update after it."
            )
        else:
            message = "Achieved means 100 %: set the percent to 100 or pick another status."
        raise ValidationError({"status": message})
    changed = (pledge.progress_percent, pledge.last_update_on, pledge.status) != (
        percent,
        last_update_on,
        status,
    )
    if changed:
        pledge.progress_percent = percent
        pledge.last_update_on = last_update_on
        pledge.status = status
        pledge.full_clean()
        pledge.save()
