"""Home ("My work") and the manager dashboard pages."""

from django.conf import settings
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponse
from django.views import View
from django.views.generic import ListView, TemplateView

from engagements.views import MyWorkView

from .cache import cached_dashboard
from .figures import processes_accessed
from .forms import DashboardFilterForm
from .workbook import dashboard_workbook


class HomeView(MyWorkView):
    """Home is the logged-in user's "My work": follow-ups, open TA requests, upcoming events."""

    template_name = "crm/home.html"


class DashboardMixin(PermissionRequiredMixin):
    """Managers and admins; staff get a 403 (their landing page is "My work")."""

    permission_required = "crm.view_dashboard"
    raise_exception = True

    def get_filter_form(self):
        if not hasattr(self, "_filter_form"):
            self._filter_form = DashboardFilterForm(self.request.GET or None)
        return self._filter_form


class DashboardView(DashboardMixin, TemplateView):
    template_name = "crm/dashboard.html"

    def get_context_data(self, **kwargs):
        form = self.get_filter_form()
        refresh = "refresh" in self.request.GET
        data = cached_dashboard(*form.period_and_scope(), refresh=refresh)
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
        data = cached_dashboard(*self.get_filter_form().period_and_scope())
        response = HttpResponse(
            dashboard_workbook(data),
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
        return processes_accessed(self.period, self.scope)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            form=self.get_filter_form(), period=self.period, scope=self.scope, **kwargs
        )
