from django.urls import path

from . import views

# Included by crm/urls.py, so every name here is in the ``crm:`` namespace.
urlpatterns = [
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/export/", views.DashboardExportView.as_view(), name="dashboard_export"),
    path(
        "dashboard/processes/", views.DashboardProcessesView.as_view(), name="dashboard_processes"
    ),
]
