from django.contrib import admin
from django.urls import include, path

from crm.core.views import healthz
from crm.dashboard.views import HomeView

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("crm.urls")),
    path("cities/", include("cities.urls")),
    path("engagements/", include("engagements.urls")),
    path("pledges/", include("pledges.urls")),
    path("outreach/", include("outreach.urls")),
]
