"""The import engine: read a file, preview what it would do, then write it all or nothing.

Why not the library's ``import_data``: it loads and saves row by row (a few hundred rows a
second) and resolves every reference with its own query. Here a file is read in chunks; each
chunk's existing records come from one query, references from maps loaded once, and writes go
through ``crm.imports.bulk`` (batched inserts/updates that also write the simple-history rows,
user and change reason included). The resources (each app's ``resources.py``) still say what
every column is and how it is read.

The preview and the commit run the same code; the commit writes inside one transaction and
rolls everything back if any row is in error.
"""

import itertools
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import DatabaseError, models, transaction
from django.utils import timezone

from crm.core.import_widgets import PendingRecord, ReferenceWidget
from crm.core.text import fold
from crm.dashboard.cache import data_changed as dashboard_data_changed

from .bulk import create_with_history, update_with_history
from .files import ImportFileError, iter_rows, unquote_cell
from .registry import ENTITIES, entity_label, get_resource

CHUNK_ROWS = 2000
BATCH_SIZE = 500
HEADER_SCAN_ROWS = 10
ACTIONS = ("create", "update", "skip", "error")
DATE_ORDERS = (
    ("iso", "ISO only (2024-12-31)"),
    ("dmy", "Day first (31/12/2024)"),
    ("mdy", "Month first (12/31/2024)"),
)


def normalise_header(value):
    """'  First_Name ' → 'first name': headers match in any case, spacing or accents."""
    return " ".join(fold(str(value)).replace("_", " ").replace("*", "").split())


def _blank(value):
    return value is None or value == "" or value == []


@dataclass(slots=True)
class RowOutcome:
    number: int
    action: str
    label: str = ""
    changes: list = field(default_factory=list)  # (column, old, new)
    errors: list = field(default_factory=list)  # (column, message)


@dataclass
class ImportReport:
    entity: str
    rows: list = field(default_factory=list)  # every row but the unchanged ones
    counts: dict = field(default_factory=lambda: dict.fromkeys(ACTIONS, 0))
    warnings: list = field(default_factory=list)
    file_error: str = ""
    columns: list = field(default_factory=list)
    committed: bool = False
    created_ids: dict = field(default_factory=dict)  # model label → [pk]
    before_images: dict = field(default_factory=dict)  # model label → {pk: {attname: value}}

    @property
    def has_errors(self):
        return bool(self.file_error or self.counts["error"])

    def errors(self):
        """(row number, column, message) for every error, in file order."""
        if self.file_error:
            return [(None, "", self.file_error)]
        return [
            (row.number, column, message)
            for row in self.rows
            if row.action == "error"
            for column, message in row.errors
        ]

    def summary_line(self):
        c = self.counts
        return (
            f"created={c['create']} updated={c['update']} skipped={c['skip']} errors={c['error']}"
        )

    def to_preview(self, limit=500):
        """A JSON-able digest for the preview page (kept on the ImportBatch)."""
        errors = self.errors()
        updates = [r for r in self.rows if r.action == "update"]
        creates = [r for r in self.rows if r.action == "create"]
        return {
            "entity": self.entity,
            "counts": self.counts,
            "warnings": self.warnings,
            "file_error": self.file_error,
            "columns": self.columns,
            "errors": [list(e) for e in errors[:limit]],
            "errors_total": len(errors),
            "updates": [[r.number, r.label, [list(c) for c in r.changes]] for r in updates[:limit]],
            "creates": [[r.number, r.label] for r in creates[:limit]],
        }


class _Abort(Exception):
    """Raised inside the transaction to undo every write of an import with errors."""


class Importer:
    """One import of one file for one entity. ``run(write=False)`` is the preview."""

    def __init__(self, entity, *, date_order="iso", user=None, reason="Import"):
        self.entity = entity
        self.resource = get_resource(entity)
        self.model = self.resource._meta.model
        self.date_order = date_order
        self.user = user
        self.reason = reason
        self.report = ImportReport(entity=entity)
        self.seen = {}  # natural key → first row number, to refuse duplicates within the file
        self._field_plan = None
        self._m2m = set()
        self._extra_columns = []

    # --- header ------------------------------------------------------------------------------

    def _lookup(self, resource):
        lookup = {}
        for name, res_field in resource.fields.items():
            lookup.setdefault(normalise_header(res_field.column_name), name)
            lookup.setdefault(normalise_header(name), name)
        for alias, name in resource.column_aliases.items():
            lookup.setdefault(normalise_header(alias), name)
        return lookup

    def _score(self, resource, cells):
        lookup = self._lookup(resource)
        return {lookup[h] for h in (normalise_header(c) for c in cells if c != "") if h in lookup}

    def _find_header(self, rows):
        """The header is the best-matching of the first non-blank rows (titles above it skip)."""
        scanned = []
        for number, cells in rows:
            if any(c != "" for c in cells):
                scanned.append((number, cells))
                if len(scanned) >= HEADER_SCAN_ROWS:
                    break
        if not scanned:
            raise ImportFileError("The file has no rows.")
        scores = [len(self._score(self.resource, cells)) for _, cells in scanned]
        best = max(range(len(scanned)), key=lambda i: (scores[i], -i))
        number, header = scanned[best]
        matched = self._score(self.resource, header)
        required = set(self.resource.get_required_fields())
        label = entity_label(self.entity).lower()
        unknown = any(
            normalise_header(c) not in self._lookup(self.resource) for c in header if c != ""
        )
        if unknown or not required <= matched:
            self._refuse_other_entity(scanned, matched, label)
        if not required <= matched:
            expected = ", ".join(f.column_name for f in self.resource.get_export_fields())
            if not matched:
                raise ImportFileError(
                    "No recognisable header row: the first row must name the columns, "
                    f"for {label}: {expected}. Download the template to start from."
                )
            missing = ", ".join(
                self.resource.fields[name].column_name for name in sorted(required - matched)
            )
            raise ImportFileError(f"The file has no “{missing}” column, needed for {label}.")
        return number, header, scanned[best + 1 :]

    def _refuse_other_entity(self, scanned, matched, label):
        """A file whose columns fit another kind of records better was uploaded as this one."""
        for other in ENTITIES:
            if other == self.entity:
                continue
            other_resource = get_resource(other)
            for _, cells in scanned:
                other_matched = self._score(other_resource, cells)
                if set(other_resource.get_required_fields()) <= other_matched and len(
                    other_matched
                ) > len(matched):
                    raise ImportFileError(
                        f"This file looks like {entity_label(other).lower()}, not {label}: "
                        f"choose “{entity_label(other)}” as the kind of records, "
                        "or pick the right file."
                    )

    def _plan_columns(self, header):
        """[(cell index, field name, Field)] for the importable columns; warn about the rest."""
        lookup = self._lookup(self.resource)
        importable = dict(self.resource.import_fields())
        plan, used, ignored = [], set(), []
        for index, cell in enumerate(header):
            if cell == "" or cell is None:
                continue
            name = lookup.get(normalise_header(cell))
            if name is None:
                ignored.append(str(cell))
            elif name in used:
                self.report.warnings.append(
                    f"The column “{cell}” appears twice: the first one is used."
                )
            elif name in importable:
                used.add(name)
                plan.append((index, name, importable[name]))
            else:
                # An export-only column (a computed figure, or a reference's second part such
                # as an event's start date): no warning, and widgets may read it.
                used.add(name)
                self._extra_columns.append((index, self.resource.fields[name].column_name))
        if ignored:
            self.report.warnings.append(
                f"Ignored column{'s' if len(ignored) > 1 else ''} not in the "
                f"{entity_label(self.entity).lower()} template: {', '.join(ignored)}."
            )
        self.report.columns = [f.column_name for _, _, f in plan]
        return plan

    # --- rows --------------------------------------------------------------------------------

    def _prepare_fields(self, plan):
        self._field_plan = []
        for index, name, res_field in plan:
            model_field = self.resource.model_field(res_field)
            self._field_plan.append((index, name, res_field, model_field))
        self._m2m = {
            name
            for _, name, _, model_field in self._field_plan
            if model_field is not None and model_field.many_to_many
        }
        self._row_columns = [(i, f.column_name) for i, _, f, _ in self._field_plan]
        self._row_columns += self._extra_columns
        self._validated = {
            name
            for _, name, _, model_field in self._field_plan
            if model_field is not None and not model_field.is_relation and model_field.validators
        }
        # name → (Field, model field) for every importable field, looked up once.
        self._fields = {
            name: (res_field, self.resource.model_field(res_field))
            for name, res_field in self.resource.import_fields()
        }
        self._key_fields = set(self.resource.get_import_id_fields())
        # A required field the file has no column for: new records take the widget's default
        # (the person importing, for an owner); with none, the file cannot be imported.
        self._create_defaults = {}
        planned = {name for _, name, _ in plan}
        for name, res_field in self.resource.import_fields():
            model_field = self.resource.model_field(res_field)
            if name in planned or model_field is None or model_field.blank:
                continue
            if model_field.has_default():
                continue
            try:
                value = res_field.widget.clean("", row={})
            except ValueError:
                value = None
            if _blank(value):
                raise ImportFileError(
                    f"The file has no “{res_field.column_name}” column, needed for "
                    f"{entity_label(self.entity).lower()}."
                )
            self._create_defaults[name] = value

    def _clean(self, number, cells):
        """A row's cells → (values by field name, [(column, message)])."""
        row = {}
        for index, column in self._row_columns:
            value = cells[index] if index < len(cells) else ""
            value = unquote_cell(value)
            row[column] = value.strip() if isinstance(value, str) else value
        values, errors = {}, []
        for _, name, res_field, model_field in self._field_plan:
            column = res_field.column_name
            try:
                # The widget directly rather than Field.clean(): same result (no field here
                # has a default), and this runs for every cell of every row.
                value = res_field.widget.clean(row[column], row=row, date_order=self.date_order)
            except (ValueError, ValidationError) as error:
                errors.append((column, _message(error)))
                continue
            blank = _blank(value)
            if blank and model_field is not None and not model_field.blank:
                if model_field.has_default():
                    continue  # keep what the record has (or the default for a new one)
                errors.append((column, "This column is required."))
                continue
            if not blank and name in self._validated and not isinstance(value, PendingRecord):
                try:
                    model_field.run_validators(value)
                except ValidationError as error:
                    errors.append((column, _message(error)))
                    continue
            values[name] = value
        return values, errors

    def _process_chunk(self, chunk, write):
        cleaned = []
        for number, cells in chunk:
            values, errors = self._clean(number, cells)
            key = None
            if not errors:
                key = self.resource.natural_key(values)
                if key is None:
                    columns = ", ".join(
                        self.resource.fields[n].column_name
                        for n in self.resource.get_import_id_fields()
                    )
                    errors.append((columns, "Needed to match existing records: fill it in."))
                elif key in self.seen:
                    errors.append(
                        ("", f"The same record as row {self.seen[key]}: keep one of the two rows.")
                    )
                else:
                    self.seen[key] = number
            cleaned.append((number, values, errors, key))

        keys = {key for _, _, errors, key in cleaned if not errors}
        existing = self.resource.find_existing(keys)
        m2m_current = self._current_m2m(existing.values())

        to_create, to_update, update_fields = [], [], set()
        for number, values, errors, key in cleaned:
            outcome = RowOutcome(number=number, action="error", errors=errors)
            instance = existing.get(key) if not errors else None
            outcome.label = self.resource.row_label(values, instance)
            if not errors:
                if instance is None:
                    values = {**self._create_defaults, **values}
                    instance = self.model()
                    self._apply(instance, values)
                    outcome.action = "create"
                else:
                    changes, before = self._changes(instance, values, m2m_current)
                    if not changes:
                        outcome.action = "skip"
                    else:
                        outcome.action = "update"
                        outcome.changes = [(c, old, new) for c, old, new, _ in changes]
                        self._apply(instance, {name: values[name] for *_, name in changes})
                        instance._import_before = before
                        update_fields.update(
                            self._attname(name) for *_, name in changes if name not in self._m2m
                        )
                self.resource.prepare_instance(instance)
                if outcome.action != "skip":
                    outcome.errors = self._validate(instance, values, outcome.action == "create")
                    if outcome.errors:
                        outcome.action = "error"
                        outcome.changes = []
            self.report.counts[outcome.action] += 1
            if outcome.action != "skip":
                self.report.rows.append(outcome)
            if outcome.action == "create":
                instance._import_values = values
                to_create.append(instance)
            elif outcome.action == "update":
                instance._import_values = values
                to_update.append(instance)

        if write and not self.report.has_errors:
            self._write(to_create, to_update, update_fields)

    # --- comparing and applying --------------------------------------------------------------

    def _attname(self, name):
        return self._fields[name][1].attname

    def _current_m2m(self, instances):
        """{(field name, pk): sorted pks} for the chunk's existing records, one query a field."""
        current = {}
        pks = [obj.pk for obj in instances]
        if not pks:
            return current
        for name in self._m2m:
            model_field = self.resource.model_field(self.resource.fields[name])
            through = model_field.remote_field.through
            source = model_field.m2m_field_name() + "_id"
            target = model_field.m2m_reverse_field_name() + "_id"
            for obj_pk in pks:
                current[(name, obj_pk)] = []
            for obj_pk, target_pk in through.objects.filter(**{f"{source}__in": pks}).values_list(
                source, target
            ):
                current[(name, obj_pk)].append(target_pk)
        for value in current.values():
            value.sort()
        return current

    def _changes(self, instance, values, m2m_current):
        """[(column, old shown, new shown, field name)] and the before-image of those fields.

        A key's text is matched ignoring accents and case, so it never changes the record:
        "Sao Paulo" in a file does not rename São Paulo.
        """
        changes, before = [], {}
        for name, new in values.items():
            if name in self._key_fields and isinstance(new, str):
                continue
            res_field, model_field = self._fields[name]
            if model_field is None:
                continue
            if model_field.many_to_many:
                old = m2m_current.get((name, instance.pk), [])
            else:
                old = getattr(instance, model_field.attname)
            if _same(old, new):
                continue
            widget = res_field.widget
            changes.append((res_field.column_name, widget.render(old), widget.render(new), name))
            before[name] = old
        return changes, before

    def _apply(self, instance, values):
        instance._import_pending = {}
        instance._import_m2m = {}
        for name, value in values.items():
            model_field = self._fields[name][1]
            if model_field is None:
                continue
            if model_field.many_to_many:
                instance._import_m2m[name] = value
            elif isinstance(value, PendingRecord):
                instance._import_pending[model_field.attname] = value
            else:
                setattr(instance, model_field.attname, value)

    def _validate(self, instance, values, is_new):
        errors = []
        try:
            self.resource.validate_instance(instance, values, is_new)
            if type(instance).clean is not models.Model.clean:
                instance.clean()
            for constraint in self.model._meta.constraints:
                if isinstance(constraint, models.CheckConstraint):
                    constraint.validate(self.model, instance)
        except ValidationError as error:
            errors = self._error_columns(error)
        return errors

    def _error_columns(self, error):
        columns = {}
        for name, res_field in self.resource.fields.items():
            columns.setdefault(res_field.attribute, res_field.column_name)
            columns.setdefault(name, res_field.column_name)
        if hasattr(error, "error_dict"):
            return [
                (columns.get(key, "" if key == "__all__" else key), message)
                for key, messages in error.message_dict.items()
                for message in messages
            ]
        return [("", message) for message in error.messages]

    # --- writing -----------------------------------------------------------------------------

    def _record_created(self, model, pks):
        self.report.created_ids.setdefault(model._meta.label_lower, []).extend(pks)

    def _history_kwargs(self):
        return {"user": self.user, "reason": self.reason}

    def _create_pending(self, instances):
        pending = {}
        for instance in instances:
            for record in instance._import_pending.values():
                if record.instance.pk is None:
                    pending.setdefault(type(record.instance), {})[id(record)] = record
        for model, records in pending.items():
            objs = [record.instance for record in records.values()]
            created = create_with_history(model, objs, **self._history_kwargs())
            for record, obj in zip(records.values(), created, strict=True):
                record.instance = obj
            self._record_created(model, [obj.pk for obj in created])
        for instance in instances:
            for attname, record in instance._import_pending.items():
                setattr(instance, attname, record.instance.pk)

    def _write(self, to_create, to_update, update_fields):
        self._create_pending(to_create + to_update)
        if to_create:
            created = create_with_history(self.model, to_create, **self._history_kwargs())
            for original, obj in zip(to_create, created, strict=True):
                obj._import_m2m = original._import_m2m
            self._record_created(self.model, [obj.pk for obj in created])
            self._write_m2m(created, replace=False)
        if to_update:
            now = timezone.now()
            for model_field in self.model._meta.concrete_fields:
                if getattr(model_field, "auto_now", False):
                    update_fields.add(model_field.attname)
                    for obj in to_update:
                        setattr(obj, model_field.attname, now)
            update_with_history(
                self.model, to_update, sorted(update_fields), **self._history_kwargs()
            )
            images = self.report.before_images.setdefault(self.model._meta.label_lower, {})
            for obj in to_update:
                images[str(obj.pk)] = {
                    name: _jsonable(value) for name, value in obj._import_before.items()
                }
            self._write_m2m(
                [obj for obj in to_update if set(obj._import_m2m) & set(obj._import_before)],
                replace=True,
            )

    def _write_m2m(self, instances, replace):
        for name in self._m2m:
            model_field = self.resource.model_field(self.resource.fields[name])
            write_m2m(model_field, {obj.pk: obj._import_m2m.get(name) for obj in instances})

    # --- the whole run -----------------------------------------------------------------------

    def run(self, fileobj, *, write=False):
        """Preview (``write=False``) or commit; returns the ImportReport."""
        try:
            rows = iter_rows(fileobj)
            _, header, after_header = self._find_header(rows)
            plan = self._plan_columns(header)
            for widget in self.resource.reference_widgets():
                widget.user = self.user
                widget.prepare()
            self._prepare_fields(plan)
            data = (
                (number, cells)
                for number, cells in itertools.chain(after_header, rows)
                if any(cell != "" and cell is not None for cell in cells)
            )
            while chunk := list(itertools.islice(data, CHUNK_ROWS)):
                self._process_chunk(chunk, write)
        except ImportFileError as error:
            self.report.file_error = str(error)
            self.report.rows = []
            self.report.counts = dict.fromkeys(ACTIONS, 0)
        if write and not self.report.has_errors:
            self.resource.after_commit(
                self.report.created_ids.get(self.model._meta.label_lower, []),
                [int(pk) for pk in self.report.before_images.get(self.model._meta.label_lower, {})],
                self.user,
            )
        return self.report


def write_m2m(model_field, targets_by_pk):
    """Set many-to-many links in bulk: {pk: [target pks] or None (leave alone)}."""
    targets_by_pk = {pk: targets for pk, targets in targets_by_pk.items() if targets is not None}
    if not targets_by_pk:
        return
    through = model_field.remote_field.through
    source = model_field.m2m_field_name() + "_id"
    target = model_field.m2m_reverse_field_name() + "_id"
    through.objects.filter(**{f"{source}__in": list(targets_by_pk)}).delete()
    through.objects.bulk_create(
        [
            through(**{source: pk, target: target_pk})
            for pk, targets in targets_by_pk.items()
            for target_pk in targets
        ],
        batch_size=BATCH_SIZE,
    )


def _same(old, new):
    if isinstance(new, PendingRecord):
        return False
    if _blank(old) and _blank(new):
        return True
    if isinstance(old, list) or isinstance(new, list):
        return sorted(old or []) == sorted(new or [])
    return old == new


def _jsonable(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _message(error):
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def preview_file(entity, fileobj, *, date_order="iso"):
    return Importer(entity, date_order=date_order).run(fileobj, write=False)


def commit_file(entity, fileobj, *, date_order="iso", user=None, reason="Import"):
    """Write the file in one transaction; with any error, nothing is written."""
    importer = Importer(entity, date_order=date_order, user=user, reason=reason)
    try:
        with transaction.atomic():
            report = importer.run(fileobj, write=True)
            if report.has_errors:
                raise _Abort
    except _Abort:
        report.created_ids, report.before_images = {}, {}
        return report
    except DatabaseError as error:
        report = importer.report
        report.file_error = (
            f"The database refused the import, so nothing was changed: {error}".strip()
        )
        report.created_ids, report.before_images = {}, {}
        return report
    report.committed = True
    # Bulk writes send no save signals: tell the dashboard its cached figures are stale.
    dashboard_data_changed()
    return report


__all__ = [
    "DATE_ORDERS",
    "ImportReport",
    "Importer",
    "ReferenceWidget",
    "commit_file",
    "preview_file",
]
