"""The import/export hub under /data/: upload → preview → confirm, the batch log with
rollback, blank templates and whole-entity exports. List pages export through
``RecordListView`` (``?export=csv|xlsx``)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from crm.models import ImportBatch

from .batches import (
    RollbackRefused,
    import_batch_confirm,
    import_batch_rollback,
    import_batch_start,
)
from .exporting import FORMATS, export_response, filename_for
from .files import ImportFileError, check_size
from .registry import ENTITIES, ENTITY_CHOICES, entity_label, get_resource


class ImportForm(forms.Form):
    entity = forms.ChoiceField(label="Kind of records", choices=ENTITY_CHOICES)
    file = forms.FileField(
        help_text=f"CSV (comma or semicolon) or Excel .xlsx, up to "
        f"{settings.IMPORT_MAX_UPLOAD_MB} MB. The first row names the columns."
    )
    date_order = forms.ChoiceField(
        label="Dates in the file",
        choices=ImportBatch.DateOrder.choices,
        initial=ImportBatch.DateOrder.ISO,
        help_text="ISO dates (2024-12-31) are always read; pick the order of slashed dates.",
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        try:
            check_size(uploaded.size)
        except ImportFileError as error:
            raise forms.ValidationError(str(error)) from error
        return uploaded


class ImportPermissionMixin(PermissionRequiredMixin):
    permission_required = "crm.import_records"
    raise_exception = True


def visible_batches(user):
    """Managers see every import; staff see their own."""
    batches = ImportBatch.objects.select_related("created_by", "rolled_back_by")
    if user.has_perm("crm.rollback_import"):
        return batches
    return batches.filter(created_by=user)


class ImportStartView(ImportPermissionMixin, FormView):
    template_name = "crm/import_start.html"
    form_class = ImportForm

    def get_initial(self):
        initial = super().get_initial()
        if self.request.GET.get("entity") in ENTITIES:
            initial["entity"] = self.request.GET["entity"]
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["entities"] = ENTITY_CHOICES
        context["recent"] = visible_batches(self.request.user)[:5]
        return context

    def form_valid(self, form):
        try:
            batch = import_batch_start(
                entity=form.cleaned_data["entity"],
                uploaded_file=form.cleaned_data["file"],
                date_order=form.cleaned_data["date_order"],
                user=self.request.user,
            )
        except ImportFileError as error:
            form.add_error("file", str(error))
            return self.form_invalid(form)
        return HttpResponseRedirect(reverse("crm:import_preview", args=[batch.pk]))


class ImportPreviewView(ImportPermissionMixin, DetailView):
    template_name = "crm/import_preview.html"
    context_object_name = "batch"

    def get_queryset(self):
        return visible_batches(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        preview = self.object.preview
        context["preview"] = preview
        context["entity_label"] = entity_label(self.object.entity)
        context["more_errors"] = preview.get("errors_total", 0) - len(preview.get("errors", []))
        context["more_updates"] = self.object.rows_updated - len(preview.get("updates", []))
        context["more_creates"] = self.object.rows_created - len(preview.get("creates", []))
        return context


class ImportConfirmView(ImportPermissionMixin, View):
    def post(self, request, pk):
        batch = get_object_or_404(visible_batches(request.user), pk=pk)
        try:
            report = import_batch_confirm(batch=batch, user=request.user)
        except ImportFileError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(reverse("crm:import_preview", args=[pk]))
        if not report.committed:
            messages.error(
                request,
                "Nothing was imported: the file now has errors (the records changed since the "
                "preview). They are listed below; fix the file and upload it again.",
            )
            return HttpResponseRedirect(reverse("crm:import_preview", args=[pk]))
        c = report.counts
        messages.success(
            request,
            f"Imported {batch.original_name}: {c['create']} created, {c['update']} updated, "
            f"{c['skip']} unchanged.",
        )
        return HttpResponseRedirect(reverse("crm:import_batches"))


class ImportBatchListView(ImportPermissionMixin, ListView):
    template_name = "crm/import_batches.html"
    context_object_name = "batches"
    paginate_by = 25

    def get_queryset(self):
        return visible_batches(self.request.user).defer("preview", "created_ids", "before_images")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["entity_labels"] = dict(ENTITY_CHOICES)
        return context


class ImportRollbackView(PermissionRequiredMixin, DetailView):
    permission_required = "crm.rollback_import"
    raise_exception = True
    template_name = "crm/import_rollback.html"
    context_object_name = "batch"
    queryset = ImportBatch.objects.select_related("created_by")

    def post(self, request, pk):
        batch = self.get_object()
        try:
            import_batch_rollback(batch=batch, user=request.user)
        except RollbackRefused as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, f"Import #{batch.pk} ({batch.original_name}) was rolled back."
            )
        return HttpResponseRedirect(reverse("crm:import_batches"))


def _resource_or_404(entity, fmt):
    if entity not in ENTITIES or fmt not in FORMATS:
        raise Http404("No such export.")
    return get_resource(entity)


class ExportTemplateView(View):
    """An empty file with the header row: the starting point of an import."""

    def get(self, request, entity, fmt):
        user = request.user
        if not (user.has_perm("crm.import_records") or user.has_perm("crm.export_records")):
            raise PermissionDenied
        resource = _resource_or_404(entity, fmt)
        empty = resource._meta.model._default_manager.none()
        return export_response(resource, empty, fmt, filename_for(entity, fmt, template=True))


class ExportEntityView(PermissionRequiredMixin, View):
    """Every record of one kind (list pages export what they show instead)."""

    permission_required = "crm.export_records"
    raise_exception = True

    def get(self, request, entity, fmt):
        resource = _resource_or_404(entity, fmt)
        queryset = resource._meta.model._default_manager.all()
        return export_response(resource, queryset, fmt, filename_for(entity, fmt))
