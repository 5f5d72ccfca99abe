from django.urls import path

from . import views

# Included by crm/urls.py, so every name here is in the ``crm:`` namespace.
urlpatterns = [
    path("data/", views.ImportStartView.as_view(), name="import_start"),
    path("data/imports/", views.ImportBatchListView.as_view(), name="import_batches"),
    path("data/imports/<int:pk>/", views.ImportPreviewView.as_view(), name="import_preview"),
    path(
        "data/imports/<int:pk>/confirm/",
        views.ImportConfirmView.as_view(),
        name="import_confirm",
    ),
    path(
        "data/imports/<int:pk>/rollback/",
        views.ImportRollbackView.as_view(),
        name="import_rollback",
    ),
    path(
        "data/template/<str:entity>.<str:fmt>",
        views.ExportTemplateView.as_view(),
        name="export_template",
    ),
    path(
        "data/export/<str:entity>.<str:fmt>",
        views.ExportEntityView.as_view(),
        name="export_entity",
    ),
]
