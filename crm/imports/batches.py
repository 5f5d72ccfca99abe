"""The import batch lifecycle: upload and preview, confirm, roll back.

The uploaded file is kept under MEDIA_ROOT with a random name between preview and confirm; the
confirm reads that stored file again, never anything the browser sends back. Every history row
an import writes carries the batch's change reason, which is how a rollback knows that nobody
has edited those records since.
"""

from django.apps import apps
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone
from simple_history.utils import get_history_model_for_model

from crm.dashboard.cache import data_changed as dashboard_data_changed
from crm.models import ImportBatch

from .bulk import update_with_history
from .engine import Importer, commit_file, write_m2m
from .files import ImportFileError, check_size
from .registry import get_resource


class RollbackRefused(Exception):
    """A batch that cannot be rolled back; the message says why."""


def _store_counts(batch, report):
    batch.rows_created = report.counts["create"]
    batch.rows_updated = report.counts["update"]
    batch.rows_skipped = report.counts["skip"]
    batch.rows_in_error = report.counts["error"]
    batch.preview = report.to_preview()


def import_batch_start(*, entity, uploaded_file, date_order="iso", user=None) -> ImportBatch:
    """Keep the file and preview it. A file that cannot be read raises ImportFileError and
    leaves nothing behind."""
    check_size(uploaded_file.size)
    get_resource(entity)  # an unknown entity fails here, before anything is stored
    report = Importer(entity, date_order=date_order, user=user).run(uploaded_file, write=False)
    if report.file_error:
        raise ImportFileError(report.file_error)
    uploaded_file.seek(0)
    batch = ImportBatch(
        entity=entity,
        original_name=(uploaded_file.name or "upload")[-255:],
        date_order=date_order,
        created_by=user,
    )
    batch.file.save(
        uploaded_file.name or "upload.csv", ContentFile(uploaded_file.read()), save=False
    )
    _store_counts(batch, report)
    batch.save()
    return batch


def import_batch_confirm(*, batch, user=None):
    """Write the batch's stored file in one transaction. Returns the ImportReport; with any
    error nothing is written and the batch keeps its (refreshed) preview."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != ImportBatch.Status.PREVIEWED:
            raise ImportFileError("This import was already confirmed.")
        with batch.file.open("rb") as fileobj:
            report = commit_file(
                batch.entity,
                fileobj,
                date_order=batch.date_order,
                user=user,
                reason=batch.change_reason,
            )
        _store_counts(batch, report)
        if report.committed:
            batch.status = ImportBatch.Status.COMMITTED
            batch.committed_at = timezone.now()
            batch.created_ids = report.created_ids
            batch.before_images = report.before_images
        batch.save()
    return report


def import_file_now(*, entity, fileobj, filename, date_order="iso", user=None):
    """Import without a preview step (the command line), logged as a batch like any other.

    Returns (report, batch); with any error nothing is written and no batch is kept.
    """
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            entity=entity, original_name=filename[-255:], date_order=date_order, created_by=user
        )
        report = commit_file(
            entity, fileobj, date_order=date_order, user=user, reason=batch.change_reason
        )
        if not report.committed:
            batch.delete()
            return report, None
        _store_counts(batch, report)
        batch.status = ImportBatch.Status.COMMITTED
        batch.committed_at = timezone.now()
        batch.created_ids = report.created_ids
        batch.before_images = report.before_images
        batch.save()
    return report, batch


def _rollback_reason(pk):
    return f"Rollback of import batch #{pk}"


def _edited_since(batch):
    """Records the batch wrote whose latest history row is not the batch's own.

    A later import that was itself rolled back put the records back as this batch left them,
    so its rollback's history rows count as untouched.
    """
    allowed = [batch.change_reason] + [
        _rollback_reason(pk)
        for pk in ImportBatch.objects.filter(
            pk__gt=batch.pk, status=ImportBatch.Status.ROLLED_BACK
        ).values_list("pk", flat=True)
    ]
    touched = {}
    for label, pks in batch.created_ids.items():
        touched.setdefault(label, set()).update(int(pk) for pk in pks)
    for label, images in batch.before_images.items():
        touched.setdefault(label, set()).update(int(pk) for pk in images)
    edited = []
    for label, pks in touched.items():
        model = apps.get_model(label)
        history = get_history_model_for_model(model)
        pk_name = model._meta.pk.attname
        latest = (
            history.objects.filter(**{f"{pk_name}__in": pks})
            .values(pk_name)
            .annotate(latest=Max("history_id"))
            .values_list("latest", flat=True)
        )
        changed = history.objects.filter(history_id__in=list(latest)).exclude(
            history_change_reason__in=allowed
        )
        edited.extend(str(row.instance) for row in changed[:5])
        existing = model._default_manager.filter(pk__in=pks).count()
        if existing < len(pks) and not changed.exists():
            edited.append(f"{len(pks) - existing} {model._meta.verbose_name_plural} deleted")
    return edited


def import_batch_rollback(*, batch, user=None):
    """Undo an import: delete what it created, restore what it updated. Refused (with the
    reason) when any of those records changed since."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != ImportBatch.Status.COMMITTED:
            raise RollbackRefused(
                f"Only a completed import can be rolled back; this one is "
                f"{batch.get_status_display().lower()}."
            )
        edited = _edited_since(batch)
        if edited:
            raise RollbackRefused(
                "This import cannot be rolled back: some of its records were edited or deleted "
                f"since ({'; '.join(edited[:5])}). Correct them by hand instead."
            )
        resource = get_resource(batch.entity)
        model_label = resource._meta.model._meta.label_lower
        context = resource.before_rollback(
            [int(pk) for pk in batch.created_ids.get(model_label, [])],
            [int(pk) for pk in batch.before_images.get(model_label, {})],
        )
        reason = _rollback_reason(batch.pk)
        for label, images in batch.before_images.items():
            _restore(apps.get_model(label), images, user, reason)
        try:
            for label, pks in reversed(list(batch.created_ids.items())):
                model = apps.get_model(label)
                for obj in model._default_manager.filter(pk__in=pks):
                    obj._change_reason = reason
                    obj._history_user = user
                    obj.delete()
        except ProtectedError as error:
            blockers = sorted({str(o._meta.verbose_name_plural) for o in error.protected_objects})
            raise RollbackRefused(
                "This import cannot be rolled back: records it created are now used by "
                f"{', '.join(blockers)}."
            ) from error
        resource.after_rollback(context)
        batch.status = ImportBatch.Status.ROLLED_BACK
        batch.rolled_back_at = timezone.now()
        batch.rolled_back_by = user
        batch.save()
    # Restores are bulk writes that send no save signals: the dashboard's figures are stale.
    dashboard_data_changed()
    return batch


def _restore(model, images, user, reason):
    """Put back the values an import overwrote (its before-images)."""
    objs = model._default_manager.in_bulk([int(pk) for pk in images])
    fields, m2m = set(), {}
    for pk, image in images.items():
        obj = objs[int(pk)]
        for name, value in image.items():
            model_field = model._meta.get_field(name)
            if model_field.many_to_many:
                m2m.setdefault(model_field, {})[obj.pk] = value
            else:
                setattr(obj, model_field.attname, model_field.to_python(value))
                fields.add(model_field.attname)
    for model_field in model._meta.concrete_fields:
        if getattr(model_field, "auto_now", False):
            fields.add(model_field.attname)
            for obj in objs.values():
                setattr(obj, model_field.attname, timezone.now())
    update_with_history(model, list(objs.values()), sorted(fields), user=user, reason=reason)
    for model_field, targets in m2m.items():
        write_m2m(model_field, targets)
