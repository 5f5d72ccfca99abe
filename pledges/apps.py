from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PledgesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pledges"

    def ready(self):
        from .frameworks import ensure_frameworks_after_migrate

        # Also after a test database is flushed, which empties what the migration seeded.
        post_migrate.connect(
            ensure_frameworks_after_migrate, sender=self, dispatch_uid="pledges.frameworks"
        )
