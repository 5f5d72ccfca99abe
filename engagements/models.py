import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from cities.models import City, Contact, Mayor


class Process(models.TextChoices):
    """Multilateral processes MMC connects cities to."""

    IMRF = "imrf", "IMRF (Global Compact for Migration review)"
    GFMD = "gfmd", "GFMD"
    GRF = "grf", "Global Refugee Forum"
    COP = "cop", "COP climate summit"
    UNGA = "unga", "UN General Assembly"
    HLPF = "hlpf", "HLPF"
    REGIONAL = "regional", "Regional process"
    OTHER = "other", "Other"


class Engagement(models.Model):
    class Kind(models.TextChoices):
        MEETING = "meeting", "Meeting"
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        DIALOGUE = "dialogue", "Global dialogue"
        WORKSHOP = "workshop", "Workshop"
        SITE_VISIT = "site_visit", "Site visit"
        OTHER = "other", "Other"

    date = models.DateField(default=timezone.localdate, db_index=True)
    kind = models.CharField(max_length=12, choices=Kind, default=Kind.MEETING)
    cities = models.ManyToManyField(City, related_name="engagements")
    contacts = models.ManyToManyField(Contact, blank=True, related_name="engagements")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="engagements"
    )
    summary = models.CharField(max_length=255)
    notes = models.TextField(blank=True, help_text="What was said; an email's text goes here.")
    outcome = models.TextField(blank=True)
    follow_up_date = models.DateField(null=True, blank=True)
    follow_up_done = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(m2m_fields=[cities, contacts])

    class Meta:
        ordering = ["-date", "-pk"]
        indexes = [
            models.Index(fields=["kind", "date"], name="engagement_kind_date_idx"),
            models.Index(
                fields=["owner", "follow_up_date"],
                condition=Q(follow_up_done=False, follow_up_date__isnull=False),
                name="engagement_open_followup_idx",
            ),
            models.Index(
                fields=["follow_up_date"],
                condition=Q(follow_up_done=False, follow_up_date__isnull=False),
                name="engagement_followup_due_idx",
            ),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}: {self.summary}"

    def get_absolute_url(self):
        return reverse("engagements:engagement_detail", args=[self.pk])

    def clean(self):
        if self.follow_up_date and self.date and self.follow_up_date < self.date:
            raise ValidationError(
                {"follow_up_date": "The follow-up cannot be due before the engagement took place."}
            )

    @property
    def follow_up_state(self):
        """open / overdue / done, or "" when there is no follow-up (for badges)."""
        if self.follow_up_done:
            return "done"
        if self.follow_up_date is None:
            return ""
        return "overdue" if self.follow_up_date < timezone.localdate() else "open"


class TARequest(models.Model):
    """A city's request for technical assistance, worked through a status workflow."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        ACCEPTED = "accepted", "Accepted"
        IN_PROGRESS = "in_progress", "In progress"
        DELIVERED = "delivered", "Delivered"
        CLOSED = "closed", "Closed"
        DECLINED = "declined", "Declined"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    # The workflow: which statuses each status may move to.
    TRANSITIONS = {
        Status.RECEIVED: (Status.ACCEPTED, Status.DECLINED),
        Status.ACCEPTED: (Status.IN_PROGRESS, Status.DECLINED),
        Status.IN_PROGRESS: (Status.DELIVERED,),
        Status.DELIVERED: (Status.CLOSED,),
        Status.CLOSED: (),
        Status.DECLINED: (),
    }
    OPEN_STATUSES = (Status.RECEIVED, Status.ACCEPTED, Status.IN_PROGRESS)

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="ta_requests")
    requested_by = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="ta_requests"
    )
    topic = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    priority = models.CharField(max_length=10, choices=Priority, default=Priority.MEDIUM)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ta_requests",
    )
    received_on = models.DateField(default=timezone.localdate)
    due_date = models.DateField(null=True, blank=True)
    # Changed only through engagements.services.ta_request_transition.
    status = models.CharField(
        max_length=12, choices=Status, default=Status.RECEIVED, editable=False, db_index=True
    )
    delivered_on = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-received_on", "-pk"]
        verbose_name = "TA request"
        indexes = [
            models.Index(fields=["owner", "status"], name="ta_owner_status_idx"),
            models.Index(fields=["status", "due_date"], name="ta_status_due_idx"),
            models.Index(fields=["received_on"], name="ta_received_idx"),
        ]

    def __str__(self):
        return f"{self.city}: {self.topic}"

    def get_absolute_url(self):
        return reverse("engagements:ta_detail", args=[self.pk])

    def clean(self):
        if self.due_date and self.received_on and self.due_date < self.received_on:
            raise ValidationError(
                {"due_date": "The due date cannot be before the request came in."}
            )

    @property
    def allowed_transitions(self):
        return self.TRANSITIONS[self.status]

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES

    @property
    def is_overdue(self):
        return self.is_open and self.due_date is not None and self.due_date < timezone.localdate()


class TATransition(models.Model):
    """One step of a TA request's workflow: who moved it, when, and why."""

    request = models.ForeignKey(TARequest, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=12, choices=TARequest.Status)
    to_status = models.CharField(max_length=12, choices=TARequest.Status)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    at = models.DateTimeField(default=timezone.now)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.request}: {self.from_status} → {self.to_status}"


class Event(models.Model):
    """A multilateral event or a session of a process (IMRF 2022, GFMD 2024, COP26, ...)."""

    name = models.CharField(max_length=200)
    process = models.CharField(max_length=10, choices=Process, db_index=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    place = models.CharField(max_length=150, blank=True)
    registration_deadline = models.DateField(null=True, blank=True)
    website = models.URLField(blank=True)
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-start_date", "pk"]
        indexes = [models.Index(fields=["start_date"], name="event_start_idx")]
        constraints = [
            models.UniqueConstraint(fields=["name", "start_date"], name="unique_event_name_start"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="event_ends_after_start",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("engagements:event_detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.end_date and self.start_date and self.end_date < self.start_date:
            errors["end_date"] = "The event cannot end before it starts."
        if (
            self.registration_deadline
            and self.start_date
            and self.registration_deadline > self.start_date
        ):
            errors["registration_deadline"] = "Registration must close by the first day."
        if errors:
            raise ValidationError(errors)

    @property
    def days_to_registration_deadline(self):
        """Days left to register (negative once closed), or None without a deadline."""
        if self.registration_deadline is None:
            return None
        return (self.registration_deadline - timezone.localdate()).days

    @property
    def is_upcoming(self):
        return (self.end_date or self.start_date) >= timezone.localdate()


class Participation(models.Model):
    """A city's part in an event: who went, in what role, with what result."""

    class Role(models.TextChoices):
        SPEAKER = "speaker", "Speaker"
        DELEGATE = "delegate", "Delegate"
        SIDE_EVENT_HOST = "side_event_host", "Side-event host"
        OBSERVER = "observer", "Observer"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        CONFIRMED = "confirmed", "Confirmed"
        ATTENDED = "attended", "Attended"
        CANCELLED = "cancelled", "Cancelled"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="participations")
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="participations")
    mayor = models.ForeignKey(
        Mayor, on_delete=models.SET_NULL, null=True, blank=True, related_name="participations"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="participations"
    )
    role = models.CharField(max_length=16, choices=Role, default=Role.DELEGATE)
    status = models.CharField(max_length=10, choices=Status, default=Status.PLANNED)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="participations",
        help_text="MMC staff member preparing this participation.",
    )
    outcome = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["event", "city__name", "pk"]
        indexes = [models.Index(fields=["city", "event"], name="participation_city_event_idx")]

    def __str__(self):
        return f"{self.city} at {self.event} ({self.get_role_display()})"

    def get_absolute_url(self):
        return self.event.get_absolute_url()


class PolicyContribution(models.Model):
    """A joint statement, political agenda or submission that cities signed."""

    class Kind(models.TextChoices):
        JOINT_STATEMENT = "joint_statement", "Joint statement"
        POLITICAL_AGENDA = "political_agenda", "Political agenda"
        SUBMISSION = "submission", "Submission"
        OTHER = "other", "Other"

    kind = models.CharField(max_length=20, choices=Kind, default=Kind.JOINT_STATEMENT)
    title = models.CharField(max_length=250)
    date = models.DateField(db_index=True)
    process = models.CharField(max_length=10, choices=Process, blank=True)
    event = models.ForeignKey(
        Event, on_delete=models.SET_NULL, null=True, blank=True, related_name="contributions"
    )
    cities = models.ManyToManyField(City, blank=True, related_name="policy_contributions")
    summary = models.TextField(blank=True)
    link = models.URLField(blank=True)
    history = HistoricalRecords(m2m_fields=[cities])

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("engagements:contribution_detail", args=[self.pk])


class PolicyOutcome(models.Model):
    """A global policy position influenced, with the evidence."""

    title = models.CharField(max_length=250)
    date = models.DateField(db_index=True)
    description = models.TextField(blank=True)
    evidence_url = models.URLField(blank=True)
    contributions = models.ManyToManyField(PolicyContribution, blank=True, related_name="outcomes")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("engagements:outcome_detail", args=[self.pk])


# --- Emails captured from the CRM mailbox or dropped onto a page -----------------------------


def _email_upload_path(instance, filename):
    # A random name: a stored email or attachment is never reachable by guessing, and the
    # sender's own file name (kept in the row) never touches the file system.
    return f"inbox/{timezone.now():%Y/%m}/{secrets.token_hex(16)}"


class InboundEmail(models.Model):
    """One email that reached the CRM: read from the mailbox or dropped onto a page.

    ``message_key`` (the Message-ID, or a digest of the message when it has none) is unique, so
    a message read twice — a poll that runs twice, a worker that died before moving it to the
    processed folder — is recognised and never logged twice. The row stays after the email is
    logged or discarded, as that key.
    """

    class Source(models.TextChoices):
        MAILBOX = "mailbox", "CRM mailbox"
        UPLOAD = "upload", "Dropped file"

    class Status(models.TextChoices):
        REVIEW = "review", "Waiting for review"
        LOGGED = "logged", "Logged"
        DISCARDED = "discarded", "Discarded"

    class Reason(models.TextChoices):
        NONE = "", "—"
        UNKNOWN_SENDER = "unknown_sender", "Not sent or forwarded by a staff user"
        NO_PERSON = "no_person", "No known person among its addresses"
        NO_CITY = "no_city", "Its people have no city"
        UNREADABLE = "unreadable", "The message could not be read"

    message_key = models.CharField(max_length=255, unique=True, editable=False)
    source = models.CharField(max_length=10, choices=Source, default=Source.MAILBOX)
    imap_uidvalidity = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    imap_uid = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    received_at = models.DateTimeField(default=timezone.now)
    raw = models.FileField(upload_to=_email_upload_path, blank=True, editable=False)
    # What the engagement is made of; for a forward, the original message's.
    sent_at = models.DateTimeField(null=True, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    from_address = models.CharField(max_length=254, blank=True)
    # [[name, address], ...]
    to_addresses = models.JSONField(default=list, blank=True)
    cc_addresses = models.JSONField(default=list, blank=True)
    body = models.TextField(blank=True)
    forwarded_by = models.CharField(max_length=254, blank=True)
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sent_inbound_emails",
        help_text="The staff user who sent or forwarded it.",
    )
    # Attachments that were not kept: [{"name", "size", "reason"}].
    skipped_attachments = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.REVIEW)
    reason = models.CharField(max_length=20, choices=Reason, default=Reason.NONE, blank=True)
    engagement = models.OneToOneField(
        Engagement, on_delete=models.SET_NULL, null=True, blank=True, related_name="email"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="uploaded_emails",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviewed_emails",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["imap_uidvalidity", "imap_uid"],
                condition=Q(imap_uid__isnull=False),
                name="unique_inbound_email_imap_uid",
            ),
            models.CheckConstraint(
                condition=~Q(status="review") | ~Q(reason=""),
                name="inbound_email_review_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="inbound_email_status_idx"),
        ]

    def __str__(self):
        return self.subject or "(no subject)"

    def get_absolute_url(self):
        if self.engagement_id:
            return self.engagement.get_absolute_url()
        return reverse("engagements:inbox_review", args=[self.pk])

    @property
    def is_waiting(self):
        return self.status == self.Status.REVIEW

    def addresses(self):
        """Every address on the message (sender, To, Cc), lower-case, in order, once each."""
        seen = []
        for _name, address in [
            (self.from_name, self.from_address),
            *self.to_addresses,
            *self.cc_addresses,
        ]:
            address = (address or "").strip().lower()
            if address and address not in seen:
                seen.append(address)
        return seen


class EmailAttachment(models.Model):
    """A file that came with an email; listed on its engagement. Personal data: deleting the
    email's engagement keeps it with the email row; ``engagements.services.inbound_email_purge``
    removes the files."""

    email = models.ForeignKey(InboundEmail, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_email_upload_path)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["email", "filename", "pk"]

    def __str__(self):
        return self.filename

    def get_absolute_url(self):
        return reverse("engagements:email_attachment", args=[self.pk])


class InboxState(models.Model):
    """The mailbox poll's one row: who holds the poll (a lease, so one poll runs at a time
    across every worker) and how the last poll went."""

    name = models.CharField(max_length=30, unique=True, default="default")
    lease_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_poll_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name
