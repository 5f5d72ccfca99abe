"""Readable change history for records kept by django-simple-history.

simple-history's own ``diff_against`` skips non-editable fields (a TA request's status) and
reports raw values (choice codes, ids, link rows); this shows what a person recognises, with
the names of related records fetched in one query per kind of record.
"""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.formats import date_format

# Bookkeeping columns nobody edits.
HIDDEN_FIELDS = {"name_key", "search_text", "created_at", "updated_at"}
EMPTY = "—"
_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass
class HistoryEntry:
    when: object
    who: object
    action: str
    changes: list = field(default_factory=list)  # (field label, old text, new text)


def _raw_changes(record, previous):
    """(model field, old, new) for every tracked field that differs between two versions."""
    changes = []
    for model_field in record.tracked_fields:
        if model_field.primary_key or model_field.name in HIDDEN_FIELDS:
            continue
        old = getattr(previous, model_field.attname)
        new = getattr(record, model_field.attname)
        if old != new:
            changes.append((model_field, old, new))
    m2m_names = [f.name for f in record._history_m2m_fields]
    if m2m_names:
        opts = record.instance_type._meta
        for change in record.diff_against(previous, included_fields=m2m_names).changes:
            model_field = opts.get_field(change.field)
            key = model_field.m2m_reverse_field_name()
            old = [row.get(key) for row in change.old or []]
            new = [row.get(key) for row in change.new or []]
            if sorted(old) != sorted(new):
                changes.append((model_field, old, new))
    return changes


def _related_ids(model_field, value):
    if model_field.many_to_many:
        return value or []
    return [value] if value is not None else []


def _as_text(model_field, value, names):
    if value is None or value == "" or value == []:
        return EMPTY
    if model_field.is_relation:
        found = names.get(model_field.related_model, {})
        ids = _related_ids(model_field, value)
        return ", ".join(sorted(str(found.get(pk, f"#{pk} (deleted)")) for pk in ids))
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.name.endswith("percent"):
        return f"{value} %"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "j M Y, H:i")
    if isinstance(value, datetime.date):
        return date_format(value, "j M Y")
    return str(value)


def history_entries(obj, limit=20):
    """The latest ``limit`` changes to ``obj``, newest first, with the fields each changed."""
    records = list(
        obj.history.select_related("history_user").order_by("-history_date", "-pk")[: limit + 1]
    )
    entries, raw = [], []
    for index, record in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes = _raw_changes(record, previous) if previous and record.history_type == "~" else []
        raw.append(changes)
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=record.history_user,
                action=_ACTIONS.get(record.history_type, record.history_type),
            )
        )

    wanted = {}
    for changes in raw:
        for model_field, old, new in changes:
            if model_field.is_relation:
                ids = wanted.setdefault(model_field.related_model, set())
                ids.update(_related_ids(model_field, old) + _related_ids(model_field, new))
    names = {model: model._default_manager.in_bulk(ids) for model, ids in wanted.items()}

    for entry, changes in zip(entries, raw, strict=True):
        entry.changes = [
            (
                str(model_field.verbose_name).capitalize(),
                _as_text(model_field, old, names),
                _as_text(model_field, new, names),
            )
            for model_field, old, new in changes
        ]
    return entries
