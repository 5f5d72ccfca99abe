"""Reminders (what a person must be told once), how each person wants them, and campaigns.

A reminder is a database row before it is anything else: the rules in ``outreach.rules`` find
what is due and insert rows keyed by (rule, record, due date, recipient), so a rule that runs
twice finds the row already there. Delivery then moves a row pending → sending → sent (or
muted / failed) with conditional updates, so two workers never send the same row.
"""

import secrets
import zoneinfo

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cities.models import Contact


class Rule(models.TextChoices):
    FOLLOW_UP = "follow_up", "Engagement follow-up due"
    TA_DUE = "ta_due", "TA request due or overdue"
    TA_ESCALATION = "ta_escalation", "TA request a week late (managers)"
    PLEDGE_CHECK_IN = "pledge_check_in", "Pledge check-in"
    BOARD_SEAT_ENDING = "board_seat_ending", "Board seat ending (managers)"
    EVENT_DEADLINE = "event_deadline", "Event registration deadline"


class Reminder(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Emailed"
        MUTED = "muted", "Muted (not emailed)"
        DONE = "done", "No longer due (not emailed)"
        FAILED = "failed", "Failed"

    rule = models.CharField(max_length=20, choices=Rule)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    due_date = models.DateField()
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
    )
    # Copied from the record when the reminder is made: the list and the email need no join.
    title = models.CharField(max_length=300)
    link = models.CharField(max_length=300, help_text="Path of the record on this site.")

    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    # Delivery bookkeeping: who holds the row (claim token), since when (the lease), how often
    # it was tried and when it may be tried again (exponential backoff).
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "content_type", "object_id", "due_date", "recipient"],
                name="unique_reminder_key",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="reminder_status_next_idx"),
            models.Index(fields=["recipient", "read_at"], name="reminder_recipient_read_idx"),
            models.Index(fields=["recipient", "-created_at"], name="reminder_recipient_new_idx"),
        ]

    def __str__(self):
        return self.title

    @property
    def url(self):
        """The record's absolute address, for emails."""
        return f"{settings.SITE_URL}{self.link}"

    @property
    def is_unread(self):
        return self.read_at is None


class ReminderDelivery(models.Model):
    """The sent-log: one row per reminder emailed, written in the same transaction as the send.

    Its unique reminder is the last line of defence against a double send: a second writer
    fails on the constraint instead of emailing again.
    """

    class Kind(models.TextChoices):
        IMMEDIATE = "immediate", "Immediate email"
        DIGEST = "digest", "Daily digest"

    reminder = models.OneToOneField(Reminder, on_delete=models.CASCADE, related_name="delivery")
    kind = models.CharField(max_length=10, choices=Kind)
    to_email = models.EmailField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        verbose_name_plural = "reminder deliveries"

    def __str__(self):
        return f"{self.reminder} → {self.to_email}"


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value} is not a time zone (e.g. Europe/Zurich).")


class NotificationPreference(models.Model):
    """How one person wants reminders: each by email at once, or one digest each morning."""

    class Delivery(models.TextChoices):
        IMMEDIATE = "immediate", "An email for each reminder"
        DIGEST = "digest", "One daily digest"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    delivery = models.CharField(max_length=10, choices=Delivery, default=Delivery.IMMEDIATE)
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], help_text="Your time zone."
    )
    digest_hour = models.PositiveSmallIntegerField(
        default=8,
        validators=[MaxValueValidator(23)],
        help_text="Local hour (0–23) at which the daily digest is sent.",
    )
    # Rule values (see Rule) the person does not want emailed; they still appear in the app.
    muted_rules = models.JSONField(default=list, blank=True)
    # The local date of the last digest, so a digest goes out at most once a day.
    last_digest_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(digest_hour__gte=0, digest_hour__lte=23), name="digest_hour_0_23"
            ),
        ]

    def __str__(self):
        return f"Notification preferences of {self.user}"

    def local_now(self, now=None):
        return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(self.time_zone))

    def digest_due(self, now=None):
        """True once the local morning hour has come and today's digest is not sent yet."""
        if self.delivery != self.Delivery.DIGEST:
            return False
        local = self.local_now(now)
        if local.hour < self.digest_hour:
            return False
        return self.last_digest_on is None or self.last_digest_on < local.date()

    def mutes(self, rule):
        return rule in (self.muted_rules or [])


def new_feed_token():
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A person's private calendar feed: the address with this token needs no login, so the
    token is long and random, reaches only this feed, and is replaced or removed at will."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token, editable=False)
    include_board_seats = models.BooleanField(
        "board seats ending",
        default=False,
        help_text="Managers: also show the day each Leadership Board seat ends.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user", "pk"]

    def __str__(self):
        return f"Calendar feed of {self.user}"

    @property
    def url(self):
        return f"{settings.SITE_URL}{reverse('outreach:calendar_feed', args=[self.token])}"


class Campaign(models.Model):
    """An email to the contacts an audience filter selects, sent at a throttled rate."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"

    name = models.CharField(max_length=150, help_text="For you; recipients do not see it.")
    subject = models.CharField(max_length=200)
    body = models.TextField(
        help_text="Plain text. Merge fields: {{ first_name }}, {{ last_name }}, "
        "{{ full_name }}, {{ title }}, {{ organisation }}, {{ city }}, {{ country }}."
    )
    # The audience filter's GET parameters (see outreach.filters.AudienceFilter).
    audience = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="campaigns"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The throttle: a batch may start only at or after this moment (claimed atomically).
    next_batch_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("outreach:campaign_detail", args=[self.pk])

    @property
    def is_draft(self):
        return self.status == self.Status.DRAFT


class CampaignRecipient(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (unsubscribed)"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="campaign_emails")
    email = models.EmailField(help_text="The address when the campaign was sent.")
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="unique_campaign_contact"),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="campaign_recipient_status_idx"),
            models.Index(fields=["status"], name="recipient_status_idx"),
        ]

    def __str__(self):
        return f"{self.campaign} → {self.email}"
