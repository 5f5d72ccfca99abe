from django.contrib import admin

from .models import Campaign, CampaignRecipient, NotificationPreference, Reminder, ReminderDelivery


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["title", "rule", "recipient", "due_date", "status", "attempts", "created_at"]
    list_filter = ["rule", "status"]
    search_fields = ["title", "recipient__username", "recipient__email"]
    list_select_related = ["recipient"]
    raw_id_fields = ["recipient"]
    readonly_fields = ["claim_token", "claimed_at", "enqueued_at", "sent_at", "created_at"]


@admin.register(ReminderDelivery)
class ReminderDeliveryAdmin(admin.ModelAdmin):
    list_display = ["reminder", "kind", "to_email", "sent_at"]
    list_filter = ["kind"]
    list_select_related = ["reminder"]
    raw_id_fields = ["reminder"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "delivery", "time_zone", "digest_hour", "last_digest_on"]
    list_filter = ["delivery"]
    list_select_related = ["user"]


class CampaignRecipientInline(admin.TabularInline):
    model = CampaignRecipient
    extra = 0
    raw_id_fields = ["contact"]
    readonly_fields = ["status", "sent_at", "attempts", "last_error"]
    show_change_link = True


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "subject", "status", "created_by", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "subject"]
    list_select_related = ["created_by"]


@admin.register(CampaignRecipient)
class CampaignRecipientAdmin(admin.ModelAdmin):
    list_display = ["campaign", "email", "status", "attempts", "sent_at"]
    list_filter = ["status"]
    search_fields = ["email"]
    list_select_related = ["campaign"]
    raw_id_fields = ["campaign", "contact"]
