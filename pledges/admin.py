from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Framework, Pledge, PledgeUpdate
from .services import pledge_refresh_progress


@admin.register(Framework)
class FrameworkAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "number", "title")
    list_filter = ("kind",)
    search_fields = ("title", "short_title")


@admin.register(Pledge)
class PledgeAdmin(SimpleHistoryAdmin):
    list_display = ("title", "city", "status", "progress_percent", "last_update_on", "owner")
    list_filter = ("status", "frameworks__kind")
    list_select_related = ("city", "owner")
    search_fields = ("title", "city__name")
    autocomplete_fields = ("frameworks",)
    raw_id_fields = ("city", "event", "owner")
    # Progress comes from the updates (pledges.services), never typed in.
    readonly_fields = ("progress_percent", "last_update_on")


@admin.register(PledgeUpdate)
class PledgeUpdateAdmin(SimpleHistoryAdmin):
    list_display = ("pledge", "date", "percent", "author")
    list_select_related = ("pledge__city", "author")
    raw_id_fields = ("pledge", "author")
    date_hierarchy = "date"

    # Editing or deleting an update here recomputes the pledge's progress, as the pages do.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        pledge_refresh_progress(pledge=obj.pledge)

    def delete_model(self, request, obj):
        pledge = obj.pledge
        super().delete_model(request, obj)
        pledge_refresh_progress(pledge=pledge)

    def delete_queryset(self, request, queryset):
        pledges = {update.pledge for update in queryset.select_related("pledge")}
        super().delete_queryset(request, queryset)
        for pledge in pledges:
            pledge_refresh_progress(pledge=pledge)
