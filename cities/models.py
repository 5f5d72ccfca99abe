from datetime import date

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from simple_history.models import HistoricalRecords

from crm.core.text import fold


class Country(models.Model):
    """An ISO 3166-1 country and the MMC region it belongs to."""

    class Region(models.TextChoices):
        AFRICA = "africa", "Africa"
        ASIA_PACIFIC = "asia_pacific", "Asia & Pacific"
        EUROPE = "europe", "Europe"
        LATIN_AMERICA = "latin_america", "Latin America & Caribbean"
        MIDDLE_EAST = "middle_east", "Middle East & North Africa"
        NORTH_AMERICA = "north_america", "North America"

    code = models.CharField("ISO code", max_length=2, unique=True)
    name = models.CharField(max_length=100)
    region = models.CharField(max_length=20, choices=Region, db_index=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name_plural = "countries"

    def __str__(self):
        return self.name


class CityNetwork(models.Model):
    """A network of cities: C40, UCLG, the GFMD Mayors Mechanism, ..."""

    name = models.CharField(max_length=120, unique=True)
    short_name = models.CharField(max_length=30, blank=True)
    website = models.URLField(blank=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.short_name or self.name


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class City(models.Model):
    class Status(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        ENGAGED = "engaged", "Engaged"
        PARTNER = "partner", "Partner"
        FORMER = "former", "Former partner"

    name = models.CharField(max_length=120, help_text="Official name, with accents.")
    aliases = models.TextField(
        blank=True, help_text="Other names or spellings, one per line (e.g. Sao Paulo, SP)."
    )
    # Folded (ASCII, lower-case) forms, kept in step by save(): exact match and search.
    name_key = models.CharField(max_length=120, editable=False, db_index=True)
    search_text = models.TextField(editable=False, blank=True)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="cities")
    status = models.CharField(max_length=10, choices=Status, default=Status.PROSPECT, db_index=True)
    population = models.PositiveIntegerField(null=True, blank=True)
    population_year = models.PositiveSmallIntegerField(null=True, blank=True)
    migrant_population = models.PositiveIntegerField(null=True, blank=True)
    migrant_population_year = models.PositiveSmallIntegerField(null=True, blank=True)
    figures_source = models.CharField(
        max_length=200, blank=True, help_text="Where the population figures come from."
    )
    networks = models.ManyToManyField(CityNetwork, blank=True, related_name="cities")
    tags = models.ManyToManyField(Tag, blank=True, related_name="cities")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(m2m_fields=[networks, tags])

    class Meta:
        ordering = ["name", "pk"]
        verbose_name_plural = "cities"
        constraints = [
            # Folded, so "Sao Paulo" cannot be added next to "São Paulo" in the same country.
            models.UniqueConstraint(fields=["country", "name_key"], name="unique_city_per_country"),
            models.CheckConstraint(
                condition=Q(migrant_population__isnull=True)
                | Q(population__isnull=True)
                | Q(migrant_population__lte=F("population")),
                name="city_migrants_within_population",
                violation_error_message="The migrant population cannot exceed the population.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "name"], name="city_status_name_idx"),
            models.Index(fields=["name", "id"], name="city_name_idx"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.refresh_search_fields()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("cities:city_detail", args=[self.pk])

    @property
    def alias_list(self):
        return [line.strip() for line in self.aliases.splitlines() if line.strip()]

    def refresh_search_fields(self):
        self.name_key = fold(self.name)
        self.search_text = " | ".join(fold(n) for n in [self.name, *self.alias_list])

    def clean(self):
        # name_key is not a form field, so the unique constraint alone would only fail on save.
        self.refresh_search_fields()
        if self.name and self.country_id:
            twin = (
                City.objects.filter(country_id=self.country_id, name_key=self.name_key)
                .exclude(pk=self.pk)
                .first()
            )
            if twin:
                raise ValidationError(
                    {"name": f"{twin.name} ({self.country}) is already recorded; open it instead."}
                )
        if (
            self.population is not None
            and self.migrant_population is not None
            and self.migrant_population > self.population
        ):
            raise ValidationError(
                {"migrant_population": "The migrant population cannot exceed the population."}
            )


class Mayor(models.Model):
    """A person who holds or held a mayoral office; offices are MayoralTerm rows."""

    full_name = models.CharField(max_length=150)
    name_key = models.CharField(max_length=150, editable=False, db_index=True)
    email = models.EmailField(blank=True)
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["full_name", "pk"]
        indexes = [models.Index(fields=["full_name", "id"], name="mayor_full_name_idx")]

    def __str__(self):
        return self.full_name

    def save(self, *args, **kwargs):
        self.name_key = fold(self.full_name)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("cities:mayor_detail", args=[self.pk])


class MayoralTermQuerySet(models.QuerySet):
    def current(self):
        return self.filter(end_date__isnull=True)


class MayoralTerm(models.Model):
    """A mayor in office in a city. An open term (no end date) is the current one."""

    mayor = models.ForeignKey(Mayor, on_delete=models.CASCADE, related_name="terms")
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="mayoral_terms")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Leave empty while in office.")
    history = HistoricalRecords()

    objects = MayoralTermQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["city"],
                condition=Q(end_date__isnull=True),
                name="one_current_mayor_per_city",
                violation_error_message="This city already has a current mayor: end that term first.",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="mayoral_term_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.mayor} — mayor of {self.city} from {self.start_date:%Y}"

    def get_absolute_url(self):
        return reverse("cities:mayor_detail", args=[self.mayor_id])

    @property
    def is_current(self):
        return self.end_date is None

    def clean(self):
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The term cannot end before it starts."})
        if self.end_date is None and self.city_id:
            others = MayoralTerm.objects.current().filter(city_id=self.city_id).exclude(pk=self.pk)
            if others.exists():
                raise ValidationError(
                    {
                        "end_date": f"{self.city} already has a current mayor: {others.first().mayor}. "
                        "End that term first."
                    }
                )


class BoardSeatQuerySet(models.QuerySet):
    def on(self, day=None):
        """Seats held on ``day`` (today by default)."""
        day = day or date.today()
        return self.filter(start_date__lte=day, end_date__gte=day)


class BoardSeat(models.Model):
    """A mayor's seat on the MMC Leadership Board: 2-year terms, renewable."""

    class Role(models.TextChoices):
        CO_CHAIR = "co_chair", "Co-chair"
        MEMBER = "member", "Member"

    TERM_YEARS = 2

    mayor = models.ForeignKey(Mayor, on_delete=models.CASCADE, related_name="board_seats")
    role = models.CharField(max_length=10, choices=Role, default=Role.MEMBER)
    start_date = models.DateField()
    end_date = models.DateField()
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    objects = BoardSeatQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")), name="board_seat_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["start_date", "end_date"], name="board_seat_dates_idx")]

    def __str__(self):
        return f"{self.mayor} — {self.get_role_display()} {self.start_date:%Y}–{self.end_date:%Y}"

    def get_absolute_url(self):
        return reverse("cities:mayor_detail", args=[self.mayor_id])

    def clean(self):
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise ValidationError({"end_date": "The seat must end after it starts."})
        if self.mayor_id and self.start_date and self.end_date:
            overlapping = BoardSeat.objects.filter(
                mayor_id=self.mayor_id, start_date__lte=self.end_date, end_date__gte=self.start_date
            ).exclude(pk=self.pk)
            if overlapping.exists():
                raise ValidationError(
                    f"{self.mayor} already holds a seat in that period ({overlapping.first()})."
                )


class Contact(models.Model):
    """A person MMC works with: city officials, partners, focal points."""

    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80, blank=True)
    name_key = models.CharField(max_length=170, editable=False, db_index=True)
    title = models.CharField(max_length=150, blank=True, help_text="Job title or position.")
    city = models.ForeignKey(
        City, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    organisation = models.CharField(max_length=150, blank=True)
    # Stored lower-case; unique when present (blank allowed for many).
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    languages = models.CharField(
        max_length=100, blank=True, help_text="ISO 639-1 codes separated by commas: en, es, fr."
    )
    is_focal_point = models.BooleanField("focal point", default=False)
    consent_to_outreach = models.BooleanField(default=False)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        constraints = [
            # Case-insensitive even for rows written without save() (bulk imports).
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="unique_contact_email",
                violation_error_message="Another contact already uses this email address.",
            ),
        ]
        indexes = [
            models.Index(fields=["city", "is_focal_point"], name="contact_city_focal_idx"),
            models.Index(fields=["last_name", "first_name", "id"], name="contact_name_idx"),
        ]

    def __str__(self):
        return self.full_name

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        self.languages = ", ".join(code.lower() for code in self.language_list)
        self.name_key = fold(self.full_name)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("cities:contact_detail", args=[self.pk])

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def can_receive_outreach(self):
        return bool(self.email) and self.consent_to_outreach and self.unsubscribed_at is None

    @property
    def language_list(self):
        return [code.strip() for code in self.languages.split(",") if code.strip()]
