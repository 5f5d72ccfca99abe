from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse, reverse_lazy
from django.views.generic import CreateView, TemplateView

from cities.models import City
from crm.core.generic import (
    ModelPermissionMixin,
    RecordCreateView,
    RecordDeleteView,
    RecordDetailView,
    RecordListView,
    RecordUpdateView,
)

from .filters import FrameworkSummaryFilter, PledgeFilter, PledgeFrameworks
from .forms import PledgeForm, PledgeUpdateForm
from .models import Framework, Pledge, PledgeUpdate
from .selectors import pledges_for_list, stalled_q
from .services import pledge_add_update


def status_counts(queryset):
    """[(status value, label, count)] for every status, zero included, in one query."""
    counts = dict(queryset.order_by().values_list("status").annotate(n=Count("pk")))
    return [(value, label, counts.get(value, 0)) for value, label in Pledge.Status.choices]


class PledgeListView(RecordListView):
    model = Pledge
    filterset_class = PledgeFilter

    def get_queryset(self):
        return pledges_for_list()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["status_counts"] = status_counts(self.filterset.qs)
        # "Stalled" the status is set by a person; this counts the silent ones, whatever status.
        context["silent_count"] = self.filterset.qs.filter(stalled_q()).count()
        context["can_add"] = self.request.user.has_perm("pledges.add_pledge")
        return context


class PledgeDetailView(RecordDetailView):
    model = Pledge

    def get_queryset(self):
        return Pledge.objects.select_related("city__country", "event", "owner")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pledge = self.object
        updates = list(pledge.updates.select_related("author").order_by("date", "pk"))
        context["updates"] = updates[::-1]  # newest first in the table
        # The line starts at 0 % on the day the pledge was announced.
        points = [(pledge.announced_on, 0)] if updates and pledge.announced_on else []
        points += [(u.date, u.percent) for u in updates]
        context["chart"] = {
            "labels": [day.isoformat() for day, _percent in points],
            "values": [percent for _day, percent in points],
        }
        context["frameworks"] = pledge.frameworks.order_by("kind", "number", "title")
        user = self.request.user
        if user.has_perm("pledges.add_pledgeupdate"):
            context["update_form"] = PledgeUpdateForm(pledge=pledge)
        context["can_change"] = user.has_perm("pledges.change_pledge")
        context["can_delete"] = user.has_perm("pledges.delete_pledge")
        return context


class PledgeCreateView(RecordCreateView):
    model = Pledge
    form_class = PledgeForm

    def get_initial(self):
        # "Add pledge" on a city page links here with ?city=<pk>.
        initial = super().get_initial()
        city_id = self.request.GET.get("city", "")
        if city_id.isdigit() and City.objects.filter(pk=city_id).exists():
            initial["city"] = int(city_id)
        initial["owner"] = self.request.user.pk
        return initial


class PledgeUpdateView(RecordUpdateView):
    model = Pledge
    form_class = PledgeForm


class PledgeDeleteView(RecordDeleteView):
    model = Pledge
    success_url = reverse_lazy("pledges:pledge_list")


class ProgressUpdateCreateView(ModelPermissionMixin, CreateView):
    """Adds a progress update to a pledge (the form also sits on the pledge page)."""

    model = PledgeUpdate
    form_class = PledgeUpdateForm
    permission_action = "add"
    template_name = "pledges/pledgeupdate_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.pledge = get_object_or_404(Pledge.objects.select_related("city"), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "pledge": self.pledge}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "pledge": self.pledge}

    def form_valid(self, form):
        status_before = self.pledge.status
        data = form.cleaned_data
        try:
            update = pledge_add_update(
                pledge=self.pledge,
                date=data["date"],
                note=data["note"],
                percent=data["percent"],
                evidence_url=data["evidence_url"],
                author=self.request.user,
                status=data["status"] or None,
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        pledge = update.pledge
        message = f"Progress update saved ({update.percent} %)."
        if pledge.status != status_before:
            message += f" The pledge is now {pledge.get_status_display().lower()}."
        if pledge.last_update_on != update.date:
            message += (
                f" A later update ({pledge.last_update_on:%d %b %Y}) still sets the progress."
            )
        messages.success(self.request, message)
        return HttpResponseRedirect(pledge.get_absolute_url() + "#updates")


class FrameworkSummaryView(ModelPermissionMixin, TemplateView):
    """Per framework: how many pledges, how many distinct cities, and the share achieved."""

    permission_required = "pledges.view_pledge"
    template_name = "pledges/framework_summary.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = FrameworkSummaryFilter(self.request.GET, queryset=Pledge.objects.all())
        links = PledgeFrameworks.objects.filter(pledge__in=filterset.qs.order_by().values("pk"))
        counts = _counts_by(links, "framework_id")
        # The same per kind: a pledge serving three GCM objectives counts once.
        kind_counts = _counts_by(links, "framework__kind")
        groups = []
        frameworks = list(Framework.objects.order_by("kind", "number", "title"))
        for kind, label in Framework.Kind.choices:
            items = [f for f in frameworks if f.kind == kind]
            if not items:
                continue
            for framework in items:
                framework.stats = _stats(counts.get(framework.pk))
            groups.append(
                {
                    "kind": kind,
                    "label": label,
                    "frameworks": items,
                    "total": _stats(kind_counts.get(kind)),
                }
            )
        context.update(
            filter=filterset,
            groups=groups,
            list_url=reverse("pledges:pledge_list"),
            base_query=_query_without(self.request.GET, "framework", "framework_kind", "page"),
        )
        return context


def _counts_by(links, key):
    """One grouped query over pledge–framework links: {key value: counts}."""
    rows = links.values(key).annotate(
        pledge_count=Count("pledge_id", distinct=True),
        city_count=Count("pledge__city_id", distinct=True),
        achieved_count=Count(
            "pledge_id", distinct=True, filter=Q(pledge__status=Pledge.Status.ACHIEVED)
        ),
    )
    return {row[key]: row for row in rows}


def _stats(row):
    pledges = row["pledge_count"] if row else 0
    achieved = row["achieved_count"] if row else 0
    return {
        "pledges": pledges,
        "cities": row["city_count"] if row else 0,
        "achieved": achieved,
        "achieved_percent": round(100 * achieved / pledges) if pledges else None,
    }


def _query_without(querydict, *names):
    query = querydict.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()
