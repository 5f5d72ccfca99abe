"""Writes that span several engagements records."""

from django.db import transaction
from django.utils import timezone

from .models import Engagement, TARequest, TATransition


class TransitionRefused(Exception):
    """A TA request cannot make the asked-for move; the message says why, for the user."""


def ta_request_transition(*, ta_request, to_status, by, comment="", expected_status=None):
    """Move ``ta_request`` to ``to_status`` and record who did it, when and why.

    ``expected_status`` is the status the user saw when they clicked: if someone else moved the
    request in the meantime the click is refused instead of being applied to a state the user
    never saw. ``None`` skips that check (scripts, demo data). The row is locked while checking,
    so two simultaneous clicks cannot both pass. Refusals raise ``TransitionRefused`` and change
    nothing. Returns the recorded ``TATransition``.
    """
    Status = TARequest.Status
    with transaction.atomic():
        locked = TARequest.objects.select_for_update().get(pk=ta_request.pk)
        current = Status(locked.status)
        if expected_status is not None and expected_status != current:
            raise TransitionRefused(
                f"This request was moved to “{current.label}” by someone else since you opened "
                "it. Nothing was changed; check its latest state and try again."
            )
        if to_status not in Status.values:
            raise TransitionRefused(f"“{to_status}” is not a TA request status. Nothing changed.")
        if to_status not in locked.allowed_transitions:
            allowed = ", ".join(Status(s).label for s in locked.allowed_transitions) or "none"
            raise TransitionRefused(
                f"A request that is “{current.label}” cannot move to “{Status(to_status).label}” "
                f"(allowed: {allowed}). Nothing was changed."
            )
        transition = TATransition.objects.create(
            request=locked, from_status=current, to_status=to_status, by=by, comment=comment
        )
        locked.status = to_status
        if to_status == Status.DELIVERED:
            locked.delivered_on = timezone.localdate()
        # Outside a request (scripts, tasks) simple-history would not know who made the change.
        locked._history_user = by
        locked.save(update_fields=["status", "delivered_on", "updated_at"])
    ta_request.status = locked.status
    ta_request.delivered_on = locked.delivered_on
    return transition


def engagement_follow_up_done(*, engagement, by):
    """Mark an engagement's follow-up as done (a no-op when it already is)."""
    with transaction.atomic():
        locked = Engagement.objects.select_for_update().get(pk=engagement.pk)
        if locked.follow_up_done:
            return locked
        locked.follow_up_done = True
        locked._history_user = by
        locked.save(update_fields=["follow_up_done", "updated_at"])
    engagement.follow_up_done = True
    return locked
