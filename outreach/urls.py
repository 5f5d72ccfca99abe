from django.urls import path

from . import views

app_name = "outreach"

urlpatterns = [
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path(
        "notifications/<int:pk>/open/",
        views.NotificationOpenView.as_view(),
        name="notification_open",
    ),
    path(
        "notifications/read/", views.NotificationMarkReadView.as_view(), name="notifications_read"
    ),
    path("notifications/unread/", views.UnreadBadgeView.as_view(), name="unread_badge"),
    path("preferences/", views.PreferenceView.as_view(), name="preferences"),
    path("calendar/", views.CalendarFeedActionView.as_view(), name="calendar_feed_action"),
    path("calendar/<str:token>.ics", views.CalendarFeedView.as_view(), name="calendar_feed"),
    path("failed/", views.FailedDeliveryListView.as_view(), name="failed_deliveries"),
    path("failed/<int:pk>/retry/", views.ReminderRetryView.as_view(), name="reminder_retry"),
    path("campaigns/", views.CampaignListView.as_view(), name="campaign_list"),
    path("campaigns/new/", views.CampaignCreateView.as_view(), name="campaign_create"),
    path("campaigns/<int:pk>/", views.CampaignDetailView.as_view(), name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", views.CampaignUpdateView.as_view(), name="campaign_update"),
    path("campaigns/<int:pk>/test/", views.CampaignTestView.as_view(), name="campaign_test"),
    path("campaigns/<int:pk>/send/", views.CampaignSendView.as_view(), name="campaign_send"),
    path("unsubscribe/<str:token>/", views.UnsubscribeView.as_view(), name="unsubscribe"),
]
