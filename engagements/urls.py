from django.urls import path

from . import views

app_name = "engagements"

urlpatterns = [
    path("", views.EngagementListView.as_view(), name="engagement_list"),
    path("log/", views.EngagementCreateView.as_view(), name="engagement_create"),
    path("<int:pk>/", views.EngagementDetailView.as_view(), name="engagement_detail"),
    path("<int:pk>/edit/", views.EngagementUpdateView.as_view(), name="engagement_update"),
    path("<int:pk>/delete/", views.EngagementDeleteView.as_view(), name="engagement_delete"),
    path(
        "<int:pk>/follow-up-done/",
        views.FollowUpDoneView.as_view(),
        name="engagement_follow_up_done",
    ),
    path(
        "<int:pk>/follow-up.ics",
        views.FollowUpCalendarView.as_view(),
        name="engagement_follow_up_ics",
    ),
    path("my-work/", views.MyWorkView.as_view(), name="my_work"),
    # Emails: the CRM mailbox's review, dropped .eml/.msg files, attachments
    path("inbox/", views.InboxListView.as_view(), name="inbox"),
    path("inbox/<int:pk>/", views.InboxReviewView.as_view(), name="inbox_review"),
    path("inbox/<int:pk>/person/", views.InboxAddPersonView.as_view(), name="inbox_add_person"),
    path("inbox/<int:pk>/discard/", views.InboxDiscardView.as_view(), name="inbox_discard"),
    path("inbox/upload/", views.EmailUploadView.as_view(), name="email_upload"),
    path("attachments/<int:pk>/", views.EmailAttachmentView.as_view(), name="email_attachment"),
    # Technical-assistance requests
    path("ta/", views.TAListView.as_view(), name="ta_list"),
    path("ta/board/", views.TABoardView.as_view(), name="ta_board"),
    path("ta/new/", views.TACreateView.as_view(), name="ta_create"),
    path("ta/<int:pk>/", views.TADetailView.as_view(), name="ta_detail"),
    path("ta/<int:pk>/edit/", views.TAUpdateView.as_view(), name="ta_update"),
    path("ta/<int:pk>/transition/", views.TATransitionView.as_view(), name="ta_transition"),
    # Events and participations
    path("events/", views.EventListView.as_view(), name="event_list"),
    path("events/new/", views.EventCreateView.as_view(), name="event_create"),
    path("events/pick/", views.EventPickerView.as_view(), name="event_picker"),
    path("events/<int:pk>/", views.EventDetailView.as_view(), name="event_detail"),
    path("events/<int:pk>/edit/", views.EventUpdateView.as_view(), name="event_update"),
    path("events/<int:pk>/calendar.ics", views.EventCalendarView.as_view(), name="event_ics"),
    path("participations/", views.ParticipationListView.as_view(), name="participation_list"),
    path(
        "participations/new/",
        views.ParticipationCreateView.as_view(),
        name="participation_create",
    ),
    path(
        "participations/<int:pk>/edit/",
        views.ParticipationUpdateView.as_view(),
        name="participation_update",
    ),
    # Policy contributions and outcomes
    path("contributions/", views.ContributionListView.as_view(), name="contribution_list"),
    path("contributions/new/", views.ContributionCreateView.as_view(), name="contribution_create"),
    path("contributions/pick/", views.ContributionPickerView.as_view(), name="contribution_picker"),
    path(
        "contributions/<int:pk>/",
        views.ContributionDetailView.as_view(),
        name="contribution_detail",
    ),
    path(
        "contributions/<int:pk>/edit/",
        views.ContributionUpdateView.as_view(),
        name="contribution_update",
    ),
    path("outcomes/", views.OutcomeListView.as_view(), name="outcome_list"),
    path("outcomes/new/", views.OutcomeCreateView.as_view(), name="outcome_create"),
    path("outcomes/<int:pk>/", views.OutcomeDetailView.as_view(), name="outcome_detail"),
    path("outcomes/<int:pk>/edit/", views.OutcomeUpdateView.as_view(), name="outcome_update"),
]
