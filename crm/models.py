import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """An MMC team member. Roles are groups (see ``crm.core.roles``)."""

    class Meta(AbstractUser.Meta):
        ordering = ["first_name", "last_name", "username", "pk"]
        permissions = [
            ("view_dashboard", "Can view manager dashboards"),
            ("export_records", "Can export records to spreadsheets"),
            ("import_records", "Can import records from spreadsheets"),
            ("rollback_import", "Can roll back an import batch"),
        ]
        swappable = "AUTH_USER_MODEL"

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def display_name(self):
        return str(self)


def _import_upload_path(instance, filename):
    # A random name: the stored file is never reachable by guessing, and the person's own file
    # name (kept in original_name) never touches the file system.
    suffix = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
    return f"imports/{secrets.token_hex(16)}{suffix}"


class ImportBatch(models.Model):
    """One spreadsheet import: the uploaded file between preview and confirm, then its log.

    ``created_ids`` and ``before_images`` say what the import wrote, so a manager can roll it
    back while nobody has edited those records since.
    """

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        COMMITTED = "committed", "Imported"
        ROLLED_BACK = "rolled_back", "Rolled back"

    class DateOrder(models.TextChoices):
        ISO = "iso", "ISO only (2024-12-31)"
        DMY = "dmy", "Day first (31/12/2024)"
        MDY = "mdy", "Month first (12/31/2024)"

    entity = models.CharField(max_length=30)
    file = models.FileField(upload_to=_import_upload_path, blank=True)
    original_name = models.CharField("file", max_length=255)
    date_order = models.CharField(max_length=3, choices=DateOrder, default=DateOrder.ISO)
    status = models.CharField(
        max_length=12, choices=Status, default=Status.PREVIEWED, db_index=True
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="import_batches"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    rows_in_error = models.PositiveIntegerField(default=0)
    preview = models.JSONField(default=dict, blank=True)
    created_ids = models.JSONField(default=dict, blank=True)
    before_images = models.JSONField(default=dict, blank=True)
    rolled_back_at = models.DateTimeField(null=True, blank=True)
    rolled_back_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "import batches"

    def __str__(self):
        return f"Import #{self.pk} ({self.entity}, {self.original_name})"

    @property
    def change_reason(self):
        """Written on every history row the import makes; rollback looks for it."""
        return f"Import batch #{self.pk}"
