from django.urls import path

from . import views

app_name = "crm"

urlpatterns = [
    path("search/", views.SearchView.as_view(), name="search"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/export/", views.DashboardExportView.as_view(), name="dashboard_export"),
    path(
        "dashboard/processes/", views.DashboardProcessesView.as_view(), name="dashboard_processes"
    ),
]
