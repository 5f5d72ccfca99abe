from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """An MMC team member. Roles are groups (see ``crm.roles``)."""

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
