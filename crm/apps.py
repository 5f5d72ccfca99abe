from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CrmConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "crm"
    verbose_name = "CRM"

    def ready(self):
        from config.celery import _ensure_filesystem_broker_folders

        from .core.roles import sync_role_permissions

        # Runs after django.contrib.auth has created the permissions of every model.
        post_migrate.connect(sync_role_permissions, dispatch_uid="crm.sync_role_permissions")
        _ensure_filesystem_broker_folders()

        from .dashboard.cache import connect_invalidation

        connect_invalidation()  # dashboard figures are recomputed after any counted write

        from .search import expressions  # noqa: F401  (search's SQLite functions, per connection)
