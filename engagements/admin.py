from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Engagement,
    Event,
    Participation,
    PolicyContribution,
    PolicyOutcome,
    TARequest,
    TATransition,
)


@admin.register(Engagement)
class EngagementAdmin(SimpleHistoryAdmin):
    list_display = ("date", "kind", "summary", "owner", "follow_up_date", "follow_up_done")
    list_filter = ("kind", "follow_up_done")
    search_fields = ("summary", "outcome")
    date_hierarchy = "date"
    autocomplete_fields = ("cities", "contacts")
    list_select_related = ("owner",)


class TATransitionInline(admin.TabularInline):
    model = TATransition
    extra = 0
    # The workflow log is written by engagements.services only.
    readonly_fields = ("from_status", "to_status", "by", "at", "comment")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TARequest)
class TARequestAdmin(SimpleHistoryAdmin):
    list_display = ("topic", "city", "status", "priority", "owner", "received_on", "due_date")
    list_filter = ("status", "priority")
    search_fields = ("topic", "city__name")
    autocomplete_fields = ("city", "requested_by")
    readonly_fields = ("status", "delivered_on")
    list_select_related = ("city", "owner")
    inlines = [TATransitionInline]


class ParticipationInline(admin.TabularInline):
    model = Participation
    extra = 0
    autocomplete_fields = ("city", "mayor", "contact")


@admin.register(Event)
class EventAdmin(SimpleHistoryAdmin):
    list_display = ("name", "process", "start_date", "end_date", "place", "registration_deadline")
    list_filter = ("process",)
    search_fields = ("name", "place")
    date_hierarchy = "start_date"
    inlines = [ParticipationInline]


@admin.register(PolicyContribution)
class PolicyContributionAdmin(SimpleHistoryAdmin):
    list_display = ("title", "kind", "date", "process", "event")
    list_filter = ("kind", "process")
    search_fields = ("title",)
    autocomplete_fields = ("cities",)


@admin.register(PolicyOutcome)
class PolicyOutcomeAdmin(SimpleHistoryAdmin):
    list_display = ("title", "date")
    search_fields = ("title",)
    filter_horizontal = ("contributions",)
