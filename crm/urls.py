from django.urls import path

from . import views
from .imports import views as import_views

app_name = "crm"

urlpatterns = [
    path("search/", views.SearchView.as_view(), name="search"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/export/", views.DashboardExportView.as_view(), name="dashboard_export"),
    path(
        "dashboard/processes/", views.DashboardProcessesView.as_view(), name="dashboard_processes"
    ),
    path("data/", import_views.ImportStartView.as_view(), name="import_start"),
    path("data/imports/", import_views.ImportBatchListView.as_view(), name="import_batches"),
    path("data/imports/<int:pk>/", import_views.ImportPreviewView.as_view(), name="import_preview"),
    path(
        "data/imports/<int:pk>/confirm/",
        import_views.ImportConfirmView.as_view(),
        name="import_confirm",
    ),
    path(
        "data/imports/<int:pk>/rollback/",
        import_views.ImportRollbackView.as_view(),
        name="import_rollback",
    ),
    path(
        "data/template/<str:entity>.<str:fmt>",
        import_views.ExportTemplateView.as_view(),
        name="export_template",
    ),
    path(
        "data/export/<str:entity>.<str:fmt>",
        import_views.ExportEntityView.as_view(),
        name="export_entity",
    ),
]
