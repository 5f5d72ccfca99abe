from django.urls import path

from . import views

app_name = "pledges"

urlpatterns = [
    path("", views.PledgeListView.as_view(), name="pledge_list"),
    path("new/", views.PledgeCreateView.as_view(), name="pledge_create"),
    path("frameworks/", views.FrameworkSummaryView.as_view(), name="framework_summary"),
    path("<int:pk>/", views.PledgeDetailView.as_view(), name="pledge_detail"),
    path("<int:pk>/edit/", views.PledgeUpdateView.as_view(), name="pledge_update"),
    path("<int:pk>/delete/", views.PledgeDeleteView.as_view(), name="pledge_delete"),
    path("<int:pk>/updates/new/", views.ProgressUpdateCreateView.as_view(), name="update_create"),
]
