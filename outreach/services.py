"""Writes of the outreach app: making reminders, delivering them once, sending campaigns.

Every delivery follows the same three steps, so that two workers (or a scan re-run after a
crash) never email the same thing twice, and a killed worker loses nothing:

1. *claim* — a conditional UPDATE moves a row pending → sending and stamps it with a fresh claim
   token; only the worker whose UPDATE changed the row goes on (as healthchecks' sendalerts
   does). A row left in "sending" longer than ``REMINDER_LEASE_SECONDS`` (its worker died) may
   be claimed again.
2. *record and send in one transaction* — the sent-log row (unique per reminder) and the
   status change are written, the email is sent, then the transaction commits. A crash or an
   SMTP error rolls the record back, so the row is retried; a concurrent writer trips on the
   unique sent-log instead of sending.
3. *classify a failure* — a refused recipient is permanent (status failed, shown to managers);
   anything else is retried with exponential backoff until ``REMINDER_MAX_ATTEMPTS``. The retry
   itself is the Celery task's business (``outreach.tasks``); these functions only say when.

Functions take keyword arguments only and ``now`` / ``today`` where time matters, so tests can
run them without a worker and at any date.
"""

import contextlib
import logging
import re
import smtplib
import uuid
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, linebreaks
from django.utils.safestring import mark_safe

from cities.models import Contact

from .models import (
    CalendarFeed,
    Campaign,
    CampaignRecipient,
    NotificationPreference,
    Reminder,
    ReminderDelivery,
    new_feed_token,
)
from .rules import RULES

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "outreach.unsubscribe"


class DeliveryDeferred(Exception):
    """A temporary failure: the row is pending again and may be retried in ``retry_in`` s."""

    def __init__(self, message, *, retry_in):
        super().__init__(message)
        self.retry_in = retry_in


def retry_delay(attempt):
    """Seconds to wait after the ``attempt``-th failure: base, 2×base, 4×base, ..."""
    return settings.REMINDER_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0)


def _lease_expired_before(now):
    return now - timedelta(seconds=settings.REMINDER_LEASE_SECONDS)


def _is_permanent(error):
    return isinstance(error, smtplib.SMTPRecipientsRefused)


# --- Making reminders ---------------------------------------------------------------------


def reminders_create_due(*, today=None, batch_size=2000):
    """Run every rule and insert the reminders not made yet; returns how many were made.

    Existing keys are skipped before inserting (so a second run writes nothing), and the
    insert itself ignores conflicts on the unique key (so two scans at once cannot double).
    """
    today = today or timezone.localdate()
    started = timezone.now()
    created = 0
    content_types = {}
    due_now = set()
    for rule_function in RULES.values():
        candidates = {}
        for due in rule_function(today):
            key = (due.rule, due.object_id, due.due_date, due.recipient_id)
            candidates.setdefault(key, due)
        due_now.update(candidates)
        if not candidates:
            continue
        by_model = {}
        for key, due in candidates.items():
            by_model.setdefault(due.model, {})[key] = due
        for model, dues in by_model.items():
            if model not in content_types:
                content_types[model] = ContentType.objects.get_for_model(model)
            content_type = content_types[model]
            dates = [key[2] for key in dues]
            existing = set(
                Reminder.objects.filter(
                    content_type=content_type,
                    rule__in={key[0] for key in dues},
                    due_date__gte=min(dates),
                    due_date__lte=max(dates),
                ).values_list("rule", "object_id", "due_date", "recipient_id")
            )
            new = [
                Reminder(
                    rule=due.rule,
                    content_type=content_type,
                    object_id=due.object_id,
                    due_date=due.due_date,
                    recipient_id=due.recipient_id,
                    title=due.title,
                    link=due.link,
                )
                for key, due in dues.items()
                if key not in existing
            ]
            for start in range(0, len(new), batch_size):
                Reminder.objects.bulk_create(new[start : start + batch_size], ignore_conflicts=True)
            created += len(new)
    reminders_drop_no_longer_due(due_now=due_now, made_before=started)
    return created


def reminders_drop_no_longer_due(*, due_now, made_before):
    """Pending reminders whose rule no longer finds them due (the follow-up was done, the TA
    request delivered, the seat renewed...) are not emailed: a digest waiting for tomorrow
    morning must not remind anyone of work already finished. They stay in the app's list.

    Only reminders made before this scan's rules ran are judged, so a reminder that a
    concurrent scan made from newer data is never dropped by an older picture.
    """
    pending = Reminder.objects.filter(status=Reminder.Status.PENDING, created_at__lt=made_before)
    stale = [
        pk
        for pk, *key in pending.values_list("pk", "rule", "object_id", "due_date", "recipient_id")
        if tuple(key) not in due_now
    ]
    for start in range(0, len(stale), 2000):
        Reminder.objects.filter(
            pk__in=stale[start : start + 2000], status=Reminder.Status.PENDING
        ).update(status=Reminder.Status.DONE)
    return len(stale)


# --- Preferences --------------------------------------------------------------------------


def preference_for(user):
    """The user's preferences, or the defaults (unsaved) when they never chose."""
    try:
        return user.notification_preference
    except NotificationPreference.DoesNotExist:
        return NotificationPreference(user=user, time_zone=settings.TIME_ZONE)


# --- What is due for delivery -------------------------------------------------------------


class DueWork(NamedTuple):
    reminder_ids: list
    digest_user_ids: list
    reclaimed: int
    muted: int


def reminders_reclaim_stale(*, now=None):
    """Reminders stuck in "sending" past the lease (a worker died mid-send) → pending again."""
    now = now or timezone.now()
    return Reminder.objects.filter(
        status=Reminder.Status.SENDING, claimed_at__lt=_lease_expired_before(now)
    ).update(status=Reminder.Status.PENDING, claim_token=None, enqueued_at=None)


def reminders_mute():
    """Pending reminders of a rule their recipient muted: kept in the app, never emailed."""
    muted = 0
    for preference in NotificationPreference.objects.exclude(muted_rules=[]).only(
        "user_id", "muted_rules"
    ):
        if preference.muted_rules:
            muted += Reminder.objects.filter(
                recipient_id=preference.user_id,
                status=Reminder.Status.PENDING,
                rule__in=preference.muted_rules,
            ).update(status=Reminder.Status.MUTED)
    return muted


def reminders_due_for_delivery(*, now=None, mark_enqueued=True):
    """What to deliver now: immediate reminders one by one, and the users whose digest is due.

    A reminder handed out is stamped ``enqueued_at`` and not handed out again until the lease
    passes, so a slow queue does not fill up with copies of the same work.
    """
    now = now or timezone.now()
    reclaimed = reminders_reclaim_stale(now=now)
    muted = reminders_mute()
    ready = (
        Reminder.objects.filter(status=Reminder.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=_lease_expired_before(now)))
    )
    immediate = ready.exclude(
        recipient__notification_preference__delivery=NotificationPreference.Delivery.DIGEST
    )
    reminder_ids = list(immediate.order_by("pk").values_list("pk", flat=True))
    if mark_enqueued and reminder_ids:
        for start in range(0, len(reminder_ids), 2000):
            Reminder.objects.filter(pk__in=reminder_ids[start : start + 2000]).update(
                enqueued_at=now
            )
    digest_user_ids = [
        preference.user_id
        for preference in NotificationPreference.objects.filter(
            delivery=NotificationPreference.Delivery.DIGEST,
            user__reminders__status=Reminder.Status.PENDING,
        ).distinct()
        if preference.digest_due(now)
    ]
    return DueWork(reminder_ids, digest_user_ids, reclaimed, muted)


def reminders_unmark_enqueued(*, reminder_ids):
    for start in range(0, len(reminder_ids), 2000):
        Reminder.objects.filter(
            pk__in=reminder_ids[start : start + 2000], status=Reminder.Status.PENDING
        ).update(enqueued_at=None)


# --- Delivering ---------------------------------------------------------------------------


def _claim(queryset, *, token, now):
    return queryset.update(status=Reminder.Status.SENDING, claim_token=token, claimed_at=now)


def _claimable(now):
    return Q(status=Reminder.Status.PENDING) | Q(
        status=Reminder.Status.SENDING, claimed_at__lt=_lease_expired_before(now)
    )


def _mark_failed(queryset, error):
    return queryset.update(
        status=Reminder.Status.FAILED, last_error=str(error)[:2000], claim_token=None
    )


def _release_after_error(queryset, *, error, now):
    """Back to pending with the attempt counted, or failed for good after the last attempt.

    Returns the seconds until the next attempt, or None when the rows failed for good.
    """
    reminders = list(queryset.only("pk", "attempts"))
    if not reminders:
        return None
    attempt = max(r.attempts for r in reminders) + 1
    if _is_permanent(error) or attempt >= settings.REMINDER_MAX_ATTEMPTS:
        queryset.update(
            status=Reminder.Status.FAILED,
            attempts=attempt,
            last_error=str(error)[:2000],
            claim_token=None,
        )
        return None
    wait = retry_delay(attempt)
    queryset.update(
        status=Reminder.Status.PENDING,
        attempts=attempt,
        last_error=str(error)[:2000],
        claim_token=None,
        enqueued_at=None,
        next_attempt_at=now + timedelta(seconds=wait),
    )
    return wait


def reminder_email(reminder):
    context = {"reminder": reminder, "user": reminder.recipient, "site_url": settings.SITE_URL}
    message = EmailMultiAlternatives(
        subject=f"Reminder: {reminder.title}"[:200],
        body=render_to_string("outreach/email/reminder.txt", context),
        to=[reminder.recipient.email],
    )
    message.attach_alternative(
        render_to_string("outreach/email/reminder.html", context), "text/html"
    )
    return message


def digest_email(user, reminders, *, local_date):
    context = {
        "reminders": reminders,
        "user": user,
        "site_url": settings.SITE_URL,
        "local_date": local_date,
        "notifications_url": settings.SITE_URL + reverse("outreach:notifications"),
    }
    count = len(reminders)
    message = EmailMultiAlternatives(
        subject=f"Your MMC CRM digest: {count} reminder{'s' if count != 1 else ''}",
        body=render_to_string("outreach/email/digest.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string("outreach/email/digest.html", context), "text/html")
    return message


def reminder_deliver(*, reminder_id, now=None):
    """Email one reminder at most once. Returns what happened: "sent", "muted", "failed",
    "digest" (left for the recipient's digest) or "skipped" (not ours to send: another worker
    holds it, or it is done). Raises DeliveryDeferred on a temporary failure."""
    now = now or timezone.now()
    token = uuid.uuid4()
    rows = Reminder.objects.filter(pk=reminder_id)
    if not _claim(rows.filter(_claimable(now)), token=token, now=now):
        return "skipped"
    mine = rows.filter(claim_token=token)
    reminder = Reminder.objects.select_related("recipient").get(pk=reminder_id)
    preference = preference_for(reminder.recipient)
    if preference.mutes(reminder.rule):
        mine.update(status=Reminder.Status.MUTED, claim_token=None)
        return "muted"
    if preference.delivery == NotificationPreference.Delivery.DIGEST:
        mine.update(status=Reminder.Status.PENDING, claim_token=None)
        return "digest"
    if not reminder.recipient.email:
        _mark_failed(mine, f"{reminder.recipient} has no email address.")
        return "failed"
    message = reminder_email(reminder)
    try:
        with transaction.atomic():
            ReminderDelivery.objects.create(
                reminder_id=reminder_id,
                kind=ReminderDelivery.Kind.IMMEDIATE,
                to_email=reminder.recipient.email,
                sent_at=now,
            )
            if not mine.update(status=Reminder.Status.SENT, sent_at=now, claim_token=None):
                # Our lease ran out and another worker took the row over: leave it to them.
                raise _LostClaim
            message.send()
    except _LostClaim:
        return "skipped"
    except IntegrityError:
        # Already in the sent-log: it went out before (a crash after the commit).
        mine.update(status=Reminder.Status.SENT, claim_token=None)
        return "skipped"
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("Reminder %s not delivered: %s", reminder_id, error)
        wait = _release_after_error(mine, error=error, now=now)
        if wait is None:
            return "failed"
        raise DeliveryDeferred(str(error), retry_in=wait) from error
    return "sent"


class _LostClaim(Exception):
    pass


def digest_send(*, user_id, now=None):
    """Send one user's daily digest of pending reminders; returns how many it carried."""
    now = now or timezone.now()
    preference = NotificationPreference.objects.select_related("user").get(user_id=user_id)
    if not preference.digest_due(now):
        return 0
    user = preference.user
    local_date = preference.local_now(now).date()
    token = uuid.uuid4()
    pending = Reminder.objects.filter(recipient_id=user_id).filter(_claimable(now))
    if preference.muted_rules:
        pending.filter(rule__in=preference.muted_rules, status=Reminder.Status.PENDING).update(
            status=Reminder.Status.MUTED
        )
        pending = pending.exclude(rule__in=preference.muted_rules)
    _claim(pending, token=token, now=now)
    mine = Reminder.objects.filter(claim_token=token)
    reminders = list(mine.order_by("due_date", "pk"))
    if not reminders:
        NotificationPreference.objects.filter(pk=preference.pk).update(last_digest_on=local_date)
        return 0
    if not user.email:
        _mark_failed(mine, f"{user} has no email address.")
        return 0
    message = digest_email(user, reminders, local_date=local_date)
    try:
        with transaction.atomic():
            ReminderDelivery.objects.bulk_create(
                [
                    ReminderDelivery(
                        reminder=reminder,
                        kind=ReminderDelivery.Kind.DIGEST,
                        to_email=user.email,
                        sent_at=now,
                    )
                    for reminder in reminders
                ]
            )
            mine.update(status=Reminder.Status.SENT, sent_at=now, claim_token=None)
            NotificationPreference.objects.filter(pk=preference.pk).update(
                last_digest_on=local_date
            )
            message.send()
    except IntegrityError:
        # One of them was already sent (a crash after a commit): mark those and retry the rest.
        Reminder.objects.filter(claim_token=token, delivery__isnull=False).update(
            status=Reminder.Status.SENT, claim_token=None
        )
        mine.update(status=Reminder.Status.PENDING, claim_token=None)
        raise DeliveryDeferred("part of the digest was already sent", retry_in=0) from None
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("Digest for user %s not delivered: %s", user_id, error)
        wait = _release_after_error(mine, error=error, now=now)
        if wait is None:
            return 0
        raise DeliveryDeferred(str(error), retry_in=wait) from error
    return len(reminders)


class DeliveryResult(NamedTuple):
    created: int
    sent: int
    failed: int


def reminders_run(*, now=None, today=None):
    """Everything the scheduled scan does, done inline: make reminders, deliver what is due.

    Used by ``manage.py send_reminders``. Temporary failures stay pending for the next run.
    """
    now = now or timezone.now()
    created = reminders_create_due(today=today or timezone.localdate(now))
    work = reminders_due_for_delivery(now=now, mark_enqueued=False)
    sent = failed = 0
    for reminder_id in work.reminder_ids:
        try:
            outcome = reminder_deliver(reminder_id=reminder_id, now=now)
        except DeliveryDeferred:
            continue
        sent += outcome == "sent"
        failed += outcome == "failed"
    for user_id in work.digest_user_ids:
        try:
            sent += digest_send(user_id=user_id, now=now)
        except DeliveryDeferred:
            continue
    return DeliveryResult(created, sent, failed)


def reminder_retry(*, reminder):
    """A manager asks to try a failed reminder again (the address was fixed)."""
    updated = Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.FAILED).update(
        status=Reminder.Status.PENDING, attempts=0, next_attempt_at=None, enqueued_at=None
    )
    if updated:
        from .tasks import deliver_reminder, enqueue_on_commit

        enqueue_on_commit(deliver_reminder, reminder.pk)
    return bool(updated)


def notifications_mark_read(*, user, reminder_ids=None, now=None):
    """Mark the user's notifications read (all of them when no ids are given)."""
    unread = Reminder.objects.filter(recipient=user, read_at__isnull=True)
    if reminder_ids is not None:
        unread = unread.filter(pk__in=reminder_ids)
    return unread.update(read_at=now or timezone.now())


# --- Campaigns ----------------------------------------------------------------------------

MERGE_FIELDS = {
    "first_name": lambda c: c.first_name,
    "last_name": lambda c: c.last_name,
    "full_name": lambda c: c.full_name,
    "title": lambda c: c.title,
    "organisation": lambda c: c.organisation or (c.city.name if c.city else ""),
    "city": lambda c: c.city.name if c.city else "",
    "country": lambda c: c.city.country.name if c.city else "",
}
_MERGE_TAG = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def merge_field_errors(text):
    """The problems of a text's merge fields, as messages (empty when it is fine)."""
    errors = []
    unknown = sorted({name for name in _MERGE_TAG.findall(text) if name not in MERGE_FIELDS})
    if unknown:
        errors.append(
            f"Unknown merge field{'s' if len(unknown) > 1 else ''}: "
            + ", ".join(f"{{{{ {name} }}}}" for name in unknown)
            + ". Use "
            + ", ".join(f"{{{{ {name} }}}}" for name in MERGE_FIELDS)
            + "."
        )
    if "{%" in text:
        errors.append("Template tags ({% … %}) are not allowed; use merge fields only.")
    return errors


def render_merge(text, contact, *, html=False):
    """Fill the merge fields with the contact's values; nothing else of the text is evaluated.

    In HTML both the text and the values are escaped, so a contact named ``<b>`` stays text.
    """
    values = {name: (getter(contact) or "") for name, getter in MERGE_FIELDS.items()}
    if not html:
        return _MERGE_TAG.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    pieces = []
    position = 0
    for match in _MERGE_TAG.finditer(text):
        pieces.append(escape(text[position : match.start()]))
        pieces.append(escape(values.get(match.group(1), match.group(0))))
        position = match.end()
    pieces.append(escape(text[position:]))
    # Safe: every piece of the text and every value was escaped just above.
    return mark_safe(linebreaks("".join(pieces), autoescape=False))  # noqa: S308


class SampleContact:
    """Who the preview shows when the audience is empty."""

    first_name = "Ana"
    last_name = "Example"
    full_name = "Ana Example"
    title = "Head of Migrant Affairs"
    organisation = ""
    pk = 0

    class city:  # noqa: N801 - mimics contact.city
        name = "São Paulo"

        class country:  # noqa: N801
            name = "Brazil"


def receivable_contacts():
    """Contacts who may get outreach: an address, consent, and no unsubscribe (the same rule
    as ``Contact.can_receive_outreach``, as a query)."""
    return Contact.objects.exclude(email="").filter(
        consent_to_outreach=True, unsubscribed_at__isnull=True
    )


def campaign_audience_data(campaign):
    """The campaign's saved audience as the GET parameters of the audience filter."""
    data = QueryDict(mutable=True)
    for key, values in (campaign.audience or {}).items():
        data.setlist(key, values if isinstance(values, list) else [values])
    return data


def campaign_audience(campaign):
    """The contacts the campaign's audience filter selects who may receive outreach."""
    from .filters import AudienceFilter

    audience = AudienceFilter(data=campaign_audience_data(campaign), queryset=receivable_contacts())
    if not audience.is_valid():
        # A saved choice that no longer exists (a deleted network...) must not widen the
        # audience to everyone: send to nobody until the campaign is edited.
        return Contact.objects.none()
    return audience.qs.select_related("city__country").order_by("pk")


def unsubscribe_token(contact):
    return signing.dumps(contact.pk, salt=UNSUBSCRIBE_SALT)


def unsubscribe_contact_from_token(token):
    """The contact a token names, or None when the token is not one we signed."""
    try:
        contact_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Contact.objects.filter(pk=contact_id).first()


def unsubscribe_url(contact):
    return settings.SITE_URL + reverse(
        "outreach:unsubscribe", kwargs={"token": unsubscribe_token(contact)}
    )


def campaign_message(campaign, contact, *, to=None, connection=None, subject_prefix=""):
    """The email for one contact: text and HTML, with the unsubscribe link and the RFC 8058
    headers that let mail programs unsubscribe in one click."""
    link = unsubscribe_url(contact) if contact.pk else settings.SITE_URL
    context = {
        "body_text": render_merge(campaign.body, contact),
        "body_html": render_merge(campaign.body, contact, html=True),
        "unsubscribe_url": link,
        "campaign": campaign,
    }
    message = EmailMultiAlternatives(
        subject=subject_prefix + render_merge(campaign.subject, contact),
        body=render_to_string("outreach/email/campaign.txt", context),
        to=[to or contact.email],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(
        render_to_string("outreach/email/campaign.html", context), "text/html"
    )
    return message


def campaign_preview(campaign):
    """(contact, subject, html body) for the first recipient, or a sample contact."""
    contact = campaign_audience(campaign).first() or SampleContact()
    return (
        contact,
        render_merge(campaign.subject, contact),
        render_merge(campaign.body, contact, html=True),
    )


def campaign_send_test(*, campaign, user):
    """Email the campaign, as the first recipient would see it, to the manager who asks."""
    if not user.email:
        raise ValidationError("Your account has no email address to send the test to.")
    contact = campaign_audience(campaign).first() or SampleContact()
    campaign_message(campaign, contact, to=user.email, subject_prefix="[Test] ").send()


def campaign_send(*, campaign, now=None):
    """Start (or resume) sending: snapshot the audience as queued recipients the first time,
    then hand the work to the throttled batch task once the transaction commits.

    Sending again only ever sends to recipients still queued.
    """
    now = now or timezone.now()
    from .tasks import enqueue_on_commit, send_campaign_batch

    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status == Campaign.Status.SENT:
            raise ValidationError("This campaign has been sent already.")
        if campaign.status == Campaign.Status.DRAFT:
            contacts = list(campaign_audience(campaign).values_list("pk", "email"))
            if not contacts:
                raise ValidationError(
                    "No contact in this audience can receive outreach (consent given, "
                    "not unsubscribed, with an email address). Nothing was sent."
                )
            CampaignRecipient.objects.bulk_create(
                [
                    CampaignRecipient(campaign=campaign, contact_id=pk, email=email)
                    for pk, email in contacts
                ],
                batch_size=1000,
                ignore_conflicts=True,
            )
            campaign.status = Campaign.Status.SENDING
            campaign.started_at = now
            campaign.next_batch_at = None
            campaign.save(update_fields=["status", "started_at", "next_batch_at", "updated_at"])
        enqueue_on_commit(send_campaign_batch, campaign.pk)
    return campaign


class BatchResult(NamedTuple):
    sent: int
    failed: int
    skipped: int
    remaining: int
    next_batch_at: object


def campaign_recipients_reclaim_stale(*, now=None):
    now = now or timezone.now()
    return CampaignRecipient.objects.filter(
        status=CampaignRecipient.Status.SENDING, claimed_at__lt=_lease_expired_before(now)
    ).update(status=CampaignRecipient.Status.QUEUED, claim_token=None)


def campaign_send_batch(*, campaign_id, now=None):
    """Send the next batch of queued recipients, at most CAMPAIGN_EMAILS_PER_MINUTE a minute.

    The campaign's ``next_batch_at`` is the throttle: a batch runs only after claiming it with a
    conditional update, so two batch chains (a resume while one runs) cannot double the rate.
    """
    now = now or timezone.now()
    rate = max(settings.CAMPAIGN_EMAILS_PER_MINUTE, 1)
    next_at = now + timedelta(minutes=1)
    slot = (
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING)
        .filter(Q(next_batch_at__isnull=True) | Q(next_batch_at__lte=now))
        .update(next_batch_at=next_at)
    )
    if not slot:
        return BatchResult(0, 0, 0, 0, None)
    campaign = Campaign.objects.get(pk=campaign_id)
    token = uuid.uuid4()
    ids = list(
        campaign.recipients.filter(status=CampaignRecipient.Status.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)[:rate]
    )
    CampaignRecipient.objects.filter(pk__in=ids, status=CampaignRecipient.Status.QUEUED).update(
        status=CampaignRecipient.Status.SENDING, claim_token=token, claimed_at=now
    )
    claimed = list(
        CampaignRecipient.objects.filter(claim_token=token)
        .select_related("contact__city__country")
        .order_by("pk")
    )
    connection = get_connection()
    # One SMTP session for the batch; a failure to connect shows up per message below.
    with contextlib.suppress(smtplib.SMTPException, OSError):
        connection.open()
    try:
        sent, failed, skipped = _send_claimed(campaign, claimed, token, connection, now)
    finally:
        connection.close()
    remaining = campaign.recipients.filter(
        status__in=[CampaignRecipient.Status.QUEUED, CampaignRecipient.Status.SENDING]
    ).count()
    if not remaining:
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).update(
            status=Campaign.Status.SENT, finished_at=now, next_batch_at=None
        )
    return BatchResult(sent, failed, skipped, remaining, next_at if remaining else None)


def _send_claimed(campaign, claimed, token, connection, now):
    sent = failed = skipped = 0
    for index, recipient in enumerate(claimed):
        row = CampaignRecipient.objects.filter(pk=recipient.pk, claim_token=token)
        contact = recipient.contact
        # Checked at the last moment: an unsubscribe between snapshot and send is honoured.
        if not contact.can_receive_outreach:
            row.update(status=CampaignRecipient.Status.SKIPPED, claim_token=None)
            skipped += 1
            continue
        message = campaign_message(campaign, contact, connection=connection)
        try:
            with transaction.atomic():
                if row.update(status=CampaignRecipient.Status.SENT, sent_at=now, claim_token=None):
                    message.send()
                    sent += 1
        except (smtplib.SMTPException, OSError) as error:
            attempt = recipient.attempts + 1
            if _is_permanent(error) or attempt >= settings.REMINDER_MAX_ATTEMPTS:
                row.update(
                    status=CampaignRecipient.Status.FAILED,
                    attempts=attempt,
                    last_error=str(error)[:2000],
                    claim_token=None,
                )
                failed += 1
                continue
            # The server is in trouble: put this one and the rest of the batch back in the queue.
            row.update(
                status=CampaignRecipient.Status.QUEUED,
                attempts=attempt,
                last_error=str(error)[:2000],
                claim_token=None,
            )
            rest = [r.pk for r in claimed[index + 1 :]]
            CampaignRecipient.objects.filter(pk__in=rest, claim_token=token).update(
                status=CampaignRecipient.Status.QUEUED, claim_token=None
            )
            logger.warning("Campaign %s paused after an SMTP error: %s", campaign.pk, error)
            break
    return sent, failed, skipped


def campaigns_stalled(*, now=None):
    """Campaigns still sending whose batch chain stopped (broker down, worker killed)."""
    now = now or timezone.now()
    campaign_recipients_reclaim_stale(now=now)
    grace = now - timedelta(minutes=2)
    return list(
        Campaign.objects.filter(status=Campaign.Status.SENDING)
        .filter(Q(next_batch_at__isnull=True) | Q(next_batch_at__lte=grace))
        .values_list("pk", flat=True)
    )


def campaign_status_counts(campaign):
    counts = dict(
        campaign.recipients.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return [
        (value, label, counts.get(value, 0)) for value, label in CampaignRecipient.Status.choices
    ]


def contact_unsubscribe(*, contact, now=None):
    """Record the contact's choice; every later campaign leaves them out. Idempotent."""
    if contact.unsubscribed_at is None:
        contact.unsubscribed_at = now or timezone.now()
        contact.save()
    return contact


# --- Calendar feeds -----------------------------------------------------------------------


def calendar_feed_create(*, user):
    """Give ``user`` a private feed address, or return the one they have."""
    feed, _ = CalendarFeed.objects.get_or_create(user=user)
    return feed


def calendar_feed_regenerate(*, user):
    """A new address for ``user``'s feed; the old one answers 404 from now on."""
    with transaction.atomic():
        feed, created = CalendarFeed.objects.select_for_update().get_or_create(user=user)
        if not created:
            feed.token = new_feed_token()
            feed.created_at = timezone.now()
            feed.save(update_fields=["token", "created_at"])
    return feed


def calendar_feed_revoke(*, user):
    """Turn ``user``'s feed off: its address answers 404. True when there was one."""
    deleted, _ = CalendarFeed.objects.filter(user=user).delete()
    return bool(deleted)
