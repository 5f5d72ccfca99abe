"""Base class-based views for every record page: permission from the model, filters,
pagination, success messages, history. An app's views say only what differs."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.views import View
from django.views.generic import CreateView, DeleteView, DetailView, UpdateView
from django_filters.views import FilterView

from .history import history_entries
from .text import fold

PAGE_SIZES = (25, 50, 100)


class ModelPermissionMixin(PermissionRequiredMixin):
    """Requires ``<app>.<action>_<model>``; logged-in users without it get a 403."""

    permission_action = "view"
    raise_exception = True

    def get_permission_required(self):
        if self.permission_required:
            return super().get_permission_required()
        opts = (self.model or self.get_queryset().model)._meta
        return [f"{opts.app_label}.{self.permission_action}_{opts.model_name}"]


class RecordListView(ModelPermissionMixin, FilterView):
    """A filtered, sortable, paginated list. ``?per_page=`` picks 25, 50 or 100 rows.

    ``?export=csv`` or ``?export=xlsx`` streams every row the list shows (filters, search and
    ordering applied, not only the page) through the entity's import/export resource, for
    users with ``crm.export_records``.
    """

    template_name_suffix = "_list"
    paginate_by = PAGE_SIZES[0]
    #: The import/export entity key; by default the one whose resource covers the model.
    export_entity = None

    def get_export_entity(self):
        from crm.imports.registry import entity_for_model

        return self.export_entity or entity_for_model(self.get_queryset().model)

    def get(self, request, *args, **kwargs):
        if "export" in request.GET:
            return self.export(request.GET["export"])
        return super().get(request, *args, **kwargs)

    def export(self, fmt):
        from crm.imports.exporting import FORMATS, export_response, filename_for
        from crm.imports.registry import get_resource

        entity = self.get_export_entity()
        if entity is None or fmt not in FORMATS:
            raise Http404("This list has no such export.")
        if not self.request.user.has_perm("crm.export_records"):
            raise PermissionDenied
        filterset = self.get_filterset(self.get_filterset_class())
        if filterset.is_bound and not filterset.is_valid() and self.get_strict():
            queryset = filterset.queryset.none()
        else:
            queryset = filterset.qs
        resource = get_resource(entity)
        queryset = resource.queryset_for_list(queryset)
        return export_response(resource, queryset, fmt, filename_for(entity, fmt))

    def get_paginate_by(self, queryset):
        try:
            per_page = int(self.request.GET.get("per_page", ""))
        except ValueError:
            return self.paginate_by
        return per_page if per_page in PAGE_SIZES else self.paginate_by

    def paginate_queryset(self, queryset, page_size):
        # Django drops Meta.ordering from GROUP BY queries (lists annotated with counts); pages
        # need a stable order, and every model's ordering ends in pk.
        if not queryset.ordered:
            queryset = queryset.order_by(*self.model._meta.ordering)
        return super().paginate_queryset(queryset, page_size)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["page_sizes"] = PAGE_SIZES
        context["opts"] = self.model._meta
        context["export_entity"] = self.get_export_entity()
        return context


class RecordDetailView(ModelPermissionMixin, DetailView):
    history_limit = 20

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["history"] = history_entries(self.object, limit=self.history_limit)
        context["opts"] = self.model._meta
        return context


class RecordFormMixin(SuccessMessageMixin):
    template_name = "crm/record_form.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["opts"] = self.model._meta
        return context


class RecordCreateView(ModelPermissionMixin, RecordFormMixin, CreateView):
    permission_action = "add"
    success_message = "%(object)s was created."

    def get_success_message(self, cleaned_data):
        return self.success_message % {"object": self.object}


class RecordUpdateView(ModelPermissionMixin, RecordFormMixin, UpdateView):
    permission_action = "change"
    success_message = "%(object)s was saved."

    def get_success_message(self, cleaned_data):
        return self.success_message % {"object": self.object}


class RecordDeleteView(ModelPermissionMixin, DeleteView):
    """Delete after confirmation; a record others depend on is kept, with the reason shown."""

    permission_action = "delete"
    template_name = "crm/record_confirm_delete.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["opts"] = self.model._meta
        return context

    def form_valid(self, form):
        name = str(self.object)
        try:
            self.object.delete()
        except ProtectedError as error:
            blockers = sorted(
                {str(obj._meta.verbose_name_plural) for obj in error.protected_objects}
            )
            messages.error(
                self.request,
                f"{name} was not deleted: it still has {', '.join(blockers)}. "
                "Remove or move those first.",
            )
            return HttpResponseRedirect(self.object.get_absolute_url())
        messages.success(self.request, f"{name} was deleted.")
        return HttpResponseRedirect(self.get_success_url())


class PickerView(ModelPermissionMixin, View):
    """JSON options for a searchable picker: ``?q=`` → ``{"results": [{"value", "text"}]}``.

    Subclasses give ``model`` and ``filter_queryset(queryset, folded_query)``.
    """

    limit = 20

    def get_queryset(self):
        return self.model.objects.all()

    def filter_queryset(self, queryset, query):
        raise NotImplementedError

    def label(self, obj):
        return str(obj)

    def get(self, request):
        query = fold(request.GET.get("q", ""))
        queryset = (
            self.filter_queryset(self.get_queryset(), query) if query else self.get_queryset()
        )
        results = [{"value": obj.pk, "text": self.label(obj)} for obj in queryset[: self.limit]]
        return JsonResponse({"results": results})
