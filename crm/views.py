from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db import connection
from django.db.models import Prefetch, Q
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import ListView, TemplateView

from cities.models import City, Contact, Mayor, MayoralTerm
from config.celery import app as celery_app
from engagements.views import MyWorkView

from . import dashboard as dash
from .text import fold


class HomeView(MyWorkView):
    """Home is the logged-in user's "My work": follow-ups, open TA requests, upcoming events."""

    template_name = "crm/home.html"


def _database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _broker_ok():
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


@login_not_required
@never_cache
def healthz(request):
    """Reachability of the database and the broker, for load balancers and monitoring."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks},
        status=200 if healthy else 503,
    )


class SearchView(TemplateView):
    """One box for cities (accents and aliases ignored), contacts and mayors: ``?q=``."""

    template_name = "crm/search.html"
    per_section = 10

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()
        folded = fold(query)
        user = self.request.user
        sections = []
        if folded and user.has_perm("cities.view_city"):
            cities = City.objects.filter(search_text__contains=folded).select_related("country")
            sections.append(("Cities", "cities:city_list", cities))
        if folded and user.has_perm("cities.view_contact"):
            contacts = Contact.objects.filter(
                Q(name_key__contains=folded)
                | Q(email__contains=folded)
                | Q(organisation__icontains=query)
            ).select_related("city")
            sections.append(("Contacts", "cities:contact_list", contacts))
        if folded and user.has_perm("cities.view_mayor"):
            current = MayoralTerm.objects.current().select_related("city")
            mayors = Mayor.objects.filter(name_key__contains=folded).prefetch_related(
                Prefetch("terms", queryset=current, to_attr="current_terms")
            )
            sections.append(("Mayors", "cities:mayor_list", mayors))
        results = [
            {
                "title": title,
                "list_url": f"{reverse(list_name)}?{urlencode({'q': query})}",
                "count": queryset.count(),
                "items": list(queryset[: self.per_section]),
                "kind": title.lower(),
            }
            for title, list_name, queryset in sections
        ]
        return super().get_context_data(
            query=query,
            results=results,
            total=sum(section["count"] for section in results),
            **kwargs,
        )


# --- Manager dashboard (selectors in crm/dashboard.py) ------------------------------------------


class DashboardMixin(PermissionRequiredMixin):
    """Managers and admins; staff get a 403 (their landing page is "My work")."""

    permission_required = "crm.view_dashboard"
    raise_exception = True

    def get_filter_form(self):
        if not hasattr(self, "_filter_form"):
            self._filter_form = dash.DashboardFilterForm(self.request.GET or None)
        return self._filter_form


class DashboardView(DashboardMixin, TemplateView):
    template_name = "crm/dashboard.html"

    def get_context_data(self, **kwargs):
        form = self.get_filter_form()
        refresh = "refresh" in self.request.GET
        data = dash.cached_dashboard(*form.period_and_scope(), refresh=refresh)
        return super().get_context_data(
            form=form,
            data=data,
            export_query=self._query_without("refresh"),
            cache_seconds=settings.DASHBOARD_CACHE_SECONDS,
            **kwargs,
        )

    def _query_without(self, name):
        query = self.request.GET.copy()
        query.pop(name, None)
        return query.urlencode()


class DashboardExportView(DashboardMixin, View):
    """The dashboard's figures for the chosen period as an XLSX workbook."""

    def get(self, request):
        data = dash.cached_dashboard(*self.get_filter_form().period_and_scope())
        response = HttpResponse(
            dash.dashboard_workbook(data),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = f"mmc-dashboard-{data.period.start}-to-{data.period.end}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class DashboardProcessesView(DashboardMixin, ListView):
    """What the "multilateral processes accessed" figure counts: one row per process."""

    template_name = "crm/dashboard_processes.html"
    context_object_name = "processes"
    paginate_by = 25

    def get_queryset(self):
        self.period, self.scope = self.get_filter_form().period_and_scope()
        return dash.processes_accessed(self.period, self.scope)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            form=self.get_filter_form(), period=self.period, scope=self.scope, **kwargs
        )
