"""Readable change history for records kept by django-simple-history."""

from dataclasses import dataclass, field


@dataclass
class HistoryEntry:
    when: object
    who: object
    action: str
    changes: list = field(default_factory=list)  # (field label, old, new)


_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def history_entries(obj, limit=20):
    """The latest ``limit`` changes to ``obj``, newest first, with the fields each changed."""
    records = list(
        obj.history.select_related("history_user").order_by("-history_date", "-pk")[: limit + 1]
    )
    entries = []
    for index, record in enumerate(records[:limit]):
        entry = HistoryEntry(
            when=record.history_date,
            who=record.history_user,
            action=_ACTIONS.get(record.history_type, record.history_type),
        )
        previous = records[index + 1] if index + 1 < len(records) else None
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous)
            for change in delta.changes:
                model_field = obj._meta.get_field(change.field)
                label = getattr(model_field, "verbose_name", change.field)
                entry.changes.append((str(label).capitalize(), change.old, change.new))
        entries.append(entry)
    return entries
