"""Celery tasks: thin wrappers around outreach.services, plus how work reaches the broker.

Every task is ``acks_late``: the broker keeps a message until its task has finished, so a worker
killed mid-task leaves it to be redelivered. That alone could send twice, so the services claim
rows before sending (see outreach.services); a redelivered task finds the work done and stops.

The database is the source of truth, the broker only a doorbell. ``publish`` never lets a broker
outage break the caller: the work stays in the database and the next scan
(``scan_reminders``, every 15 minutes from the beat schedule) picks it up.
"""

import logging
from functools import partial

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from . import services

logger = logging.getLogger(__name__)


def publish(task, *args, **options):
    """Queue ``task``; True when queued. A broker outage is logged, not raised: the scan will
    find the work in the database. ``retry=False`` keeps a web request from waiting on
    reconnection attempts (connect timeouts are bounded in settings)."""
    try:
        task.apply_async(args=args, retry=False, **options)
    except (OperationalError, ConnectionError, TimeoutError) as error:
        logger.warning("Broker unavailable, %s left for the next scan: %s", task.name, error)
        return False
    return True


def _publish_each(task, ids):
    """Queue ``task`` once per id; stop at the first broker failure (each failure costs a
    connect timeout) and return the ids left unqueued."""
    for index, item in enumerate(ids):
        if not publish(task, item):
            return list(ids[index:])
    return []


def enqueue_on_commit(task, *args, **options):
    """Like ``delay_on_commit``: nothing is queued unless the transaction commits, so a
    rolled-back change sends nothing; and like ``publish``, a broker outage is not an error."""
    transaction.on_commit(partial(publish, task, *args, **options))


@shared_task(acks_late=True)
def scan_reminders():
    """The periodic scan: run the rules, then queue what is due (and resume stalled campaigns).

    Safe to run twice at once or again after a crash: rules insert by unique key, and every
    delivery claims its rows before sending.
    """
    created = services.reminders_create_due(today=timezone.localdate())
    work = services.reminders_due_for_delivery()
    unpublished = _publish_each(deliver_reminder, work.reminder_ids)
    if unpublished:
        # Not queued after all: the next scan must hand them out again, lease or not.
        services.reminders_unmark_enqueued(reminder_ids=unpublished)
    _publish_each(send_digest, work.digest_user_ids)
    campaigns = services.campaigns_stalled()
    _publish_each(send_campaign_batch, campaigns)
    return {
        "created": created,
        "queued": len(work.reminder_ids),
        "digests": len(work.digest_user_ids),
        "reclaimed": work.reclaimed,
        "muted": work.muted,
        "campaigns": len(campaigns),
    }


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_reminder(self, reminder_id):
    """Email one reminder; on a temporary SMTP failure retry with exponential backoff (the
    service counts attempts on the row and fails it for good after REMINDER_MAX_ATTEMPTS)."""
    try:
        return services.reminder_deliver(reminder_id=reminder_id)
    except services.DeliveryDeferred as deferred:
        raise self.retry(countdown=deferred.retry_in, exc=deferred) from deferred


@shared_task(bind=True, acks_late=True, max_retries=None)
def send_digest(self, user_id):
    try:
        return services.digest_send(user_id=user_id)
    except services.DeliveryDeferred as deferred:
        raise self.retry(countdown=deferred.retry_in, exc=deferred) from deferred


@shared_task(acks_late=True)
def send_campaign_batch(campaign_id):
    """One throttled batch of a campaign, then the next batch a minute later until done."""
    result = services.campaign_send_batch(campaign_id=campaign_id)
    if result.remaining and result.next_batch_at:
        publish(send_campaign_batch, campaign_id, eta=result.next_batch_at)
    return result._asdict()


@shared_task(acks_late=True)
def send_campaign_test(campaign_id, user_id):
    from crm.models import User

    from .models import Campaign

    services.campaign_send_test(
        campaign=Campaign.objects.get(pk=campaign_id), user=User.objects.get(pk=user_id)
    )
