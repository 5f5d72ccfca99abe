from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from cities.models import City
from engagements.models import Event


class Framework(models.Model):
    """What a pledge serves: the Call to Local Action, a GCM objective, a GCR area, a campaign."""

    class Kind(models.TextChoices):
        CALL_TO_LOCAL_ACTION = "call_to_local_action", "Call to Local Action"
        GCM_OBJECTIVE = "gcm_objective", "GCM objective"
        GCR_AREA = "gcr_area", "GCR area"
        CAMPAIGN = "campaign", "Campaign"

    kind = models.CharField(max_length=24, choices=Kind)
    number = models.PositiveSmallIntegerField(null=True, blank=True)
    title = models.CharField(max_length=250)
    short_title = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["kind", "number", "title", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "title"], name="unique_framework_title"),
        ]

    def __str__(self):
        label = self.short_title or self.title
        if self.kind == self.Kind.GCM_OBJECTIVE and self.number:
            return f"GCM {self.number}: {label}"
        if self.kind == self.Kind.GCR_AREA:
            return f"GCR: {label}"
        return label


percent_validators = [MinValueValidator(0), MaxValueValidator(100)]


class Pledge(models.Model):
    class Status(models.TextChoices):
        ANNOUNCED = "announced", "Announced"
        IN_PROGRESS = "in_progress", "In progress"
        ACHIEVED = "achieved", "Achieved"
        STALLED = "stalled", "Stalled"
        WITHDRAWN = "withdrawn", "Withdrawn"

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="pledges")
    title = models.CharField(max_length=250)
    description = models.TextField(blank=True)
    frameworks = models.ManyToManyField(Framework, blank=True, related_name="pledges")
    event = models.ForeignKey(
        Event,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pledges",
        help_text="Where the pledge was made.",
    )
    announced_on = models.DateField(default=timezone.localdate, db_index=True)
    status = models.CharField(
        max_length=12, choices=Status, default=Status.ANNOUNCED, db_index=True
    )
    target_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pledges",
        help_text="MMC staff member following this pledge.",
    )
    # Set from the latest progress update (pledges.services), kept here for fast lists.
    progress_percent = models.PositiveSmallIntegerField(default=0, validators=percent_validators)
    last_update_on = models.DateField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(m2m_fields=[frameworks])

    class Meta:
        ordering = ["-announced_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["city", "title"], name="unique_pledge_title_per_city"),
            models.CheckConstraint(
                condition=Q(progress_percent__gte=0, progress_percent__lte=100),
                name="pledge_percent_0_100",
            ),
            models.CheckConstraint(
                condition=~Q(status="achieved") | Q(progress_percent=100),
                name="achieved_pledge_is_100_percent",
            ),
            models.CheckConstraint(
                condition=Q(target_date__isnull=True) | Q(target_date__gte=F("announced_on")),
                name="pledge_target_after_announcement",
            ),
        ]
        indexes = [
            # The list filtered by status, and a city's pledges, both newest first.
            models.Index(fields=["status", "-announced_on"], name="pledge_status_announced_idx"),
            models.Index(fields=["city", "-announced_on"], name="pledge_city_announced_idx"),
        ]

    def __str__(self):
        return f"{self.city}: {self.title}"

    def get_absolute_url(self):
        return reverse("pledges:pledge_detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.status == self.Status.ACHIEVED and self.progress_percent != 100:
            errors["status"] = (
                f"A pledge is achieved only at 100 % progress; this one is at "
                f"{self.progress_percent} %. Add a progress update at 100 % (it marks the "
                "pledge achieved), or pick another status."
            )
        if self.target_date and self.announced_on and self.target_date < self.announced_on:
            errors["target_date"] = "The target date cannot be before the pledge was announced."
        if errors:
            raise ValidationError(errors)


class PledgeUpdate(models.Model):
    pledge = models.ForeignKey(Pledge, on_delete=models.CASCADE, related_name="updates")
    date = models.DateField(default=timezone.localdate)
    note = models.TextField()
    percent = models.PositiveSmallIntegerField(validators=percent_validators)
    evidence_url = models.URLField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=0, percent__lte=100), name="pledge_update_percent_0_100"
            ),
        ]
        indexes = [models.Index(fields=["pledge", "date"], name="pledge_update_pledge_date_idx")]

    def __str__(self):
        return f"{self.pledge} — {self.percent}% on {self.date}"

    def get_absolute_url(self):
        return self.pledge.get_absolute_url()

    def clean(self):
        # An update reports what has happened; a future date would also hide the pledge from
        # the "no update in 6 months" check for longer than it deserves.
        if self.date and self.date > timezone.localdate():
            raise ValidationError({"date": "A progress update cannot be dated in the future."})
