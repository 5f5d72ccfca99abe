"""The ``crm:`` URL namespace: the pages of the hubs (search, dashboard, import and export)."""

from django.urls import include, path

app_name = "crm"

urlpatterns = [
    path("", include("crm.search.urls")),
    path("", include("crm.dashboard.urls")),
    path("", include("crm.imports.urls")),
]
