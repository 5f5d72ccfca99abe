"""Widgets for the resources: the library's, made forgiving about what people type, plus
reference widgets that resolve names to primary keys from one bulk read per import.

A reference widget's ``clean`` returns a primary key (or a list of them), never an instance, so
ten thousand rows cost one query, not ten thousand. ``prepare()`` loads the candidates; the
engine calls it once per import. An unknown name raises ``ValueError`` naming the closest match.
"""

import datetime
import difflib
import functools
import re

from import_export import widgets

from crm.core.text import fold

MULTI_SEPARATOR = ";"

# References repeat down a column ("São Paulo, BR" on a thousand rows): fold each text once.
cached_fold = functools.lru_cache(maxsize=65_536)(fold)


def closest(value, candidates):
    """'Did you mean …?' for an unknown name: difflib over the folded candidates."""
    folded = {}
    for label in candidates:
        folded.setdefault(fold(label), label)
    matches = difflib.get_close_matches(fold(value), list(folded), n=1, cutoff=0.6)
    return f" Did you mean “{folded[matches[0]]}”?" if matches else ""


def is_blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


class DateWidget(widgets.DateWidget):
    """ISO dates always; ``date_order="dmy"`` or ``"mdy"`` also reads 31/12/2024 or 12/31/2024.

    A slashed date is ambiguous, so it is read only when the person importing said which order
    their spreadsheet uses. XLSX cells arrive as dates already.
    """

    ORDERS = {
        "dmy": ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y"),
        "mdy": ("%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y"),
        "iso": (),
    }
    _ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")

    def clean(self, value, row=None, date_order="iso", **kwargs):
        if is_blank(value):
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = str(value).strip()
        if " " in text:
            text = text.split(" ", 1)[0]  # "2024-03-01 00:00:00" from a spreadsheet
        if self._ISO.match(text):
            try:
                return datetime.date.fromisoformat(
                    "-".join(part.zfill(2) for part in text.split("-"))
                )
            except ValueError:
                raise ValueError(f"“{value}” is not a valid date.") from None
        for fmt in self.ORDERS.get(date_order, ()):
            try:
                return datetime.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        if date_order == "iso":
            raise ValueError(
                f"“{value}” is not an ISO date (YYYY-MM-DD). If the file writes dates as "
                "31/12/2024 or 12/31/2024, choose that date format and upload again."
            )
        example = "31/12/2024" if date_order == "dmy" else "12/31/2024"
        raise ValueError(f"“{value}” is not a date like {example} or 2024-12-31.")

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class BooleanWidget(widgets.BooleanWidget):
    """yes/no, y/n, true/false, 1/0, x — in any case. Rendered as yes/no."""

    TRUE_WORDS = {"1", "yes", "y", "true", "t", "x", "oui", "si", "sí", "sim"}
    FALSE_WORDS = {"0", "no", "n", "false", "f", "non", "nao", "não", ""}

    def clean(self, value, row=None, **kwargs):
        if value is None or isinstance(value, bool):
            return bool(value)
        word = str(value).strip().lower()
        if word in self.TRUE_WORDS:
            return True
        if word in self.FALSE_WORDS:
            return False
        raise ValueError(f"“{value}” is not yes or no.")

    def render(self, value, obj=None, **kwargs):
        return "yes" if value else "no"


class IntegerWidget(widgets.IntegerWidget):
    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return None
        if isinstance(value, int):
            return value
        text = str(value).strip().replace(" ", "").replace("\u00a0", "").replace("_", "")
        if re.fullmatch(r"\d{1,3}([,.]\d{3})+", text):  # 1,234,567 or 1.234.567
            text = re.sub(r"[,.]", "", text)
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"“{value}” is not a whole number.") from None
        if not number.is_integer():
            raise ValueError(f"“{value}” is not a whole number.")
        return int(number)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class TextWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, (datetime.date, datetime.datetime)):
            value = value.isoformat()
        return str(value).strip()


class EmailWidget(TextWidget):
    def clean(self, value, row=None, **kwargs):
        return super().clean(value, row, **kwargs).lower()


class ChoiceWidget(widgets.Widget):
    """A choice by its stored value or its label, any case ("Partner", "partner")."""

    def __init__(self, choices, default=None):
        super().__init__()
        self.labels = dict(choices)
        self.lookup = {}
        for value, label in self.labels.items():
            self.lookup[fold(value)] = value
            self.lookup[fold(label)] = value
            self.lookup[fold(value.replace("_", " "))] = value
        self.default = default

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return self.default
        found = self.lookup.get(fold(value))
        if found is None:
            allowed = ", ".join(str(label) for label in self.labels.values())
            raise ValueError(f"“{value}” is not one of: {allowed}.")
        return found

    def render(self, value, obj=None, **kwargs):
        return str(self.labels.get(value, value or ""))


class ReferenceWidget(widgets.Widget):
    """Base of the reference widgets: names → primary keys through one bulk read.

    Subclasses implement ``load()`` returning ``(keys, labels)``: ``keys`` maps a folded name to
    a pk (or to ``AMBIGUOUS``), ``labels`` maps a pk to the name exports write. ``label_of``
    renders an instance for export without extra queries (the export queryset selects it).
    """

    AMBIGUOUS = object()
    noun = "record"
    multiple = False
    #: The related columns ``label_of`` reads, so an export loads only those.
    label_fields = None

    def __init__(self, required=False, multiple=None):
        super().__init__()
        self.required = required
        if multiple is not None:
            self.multiple = multiple
        self.keys = None
        self.labels = None

    def prepare(self):
        self.keys, self.labels = self.load()

    def load(self):
        raise NotImplementedError

    def label_of(self, obj):
        return str(obj)

    def label_from_values(self, values):
        """The export label from the ``label_fields`` values (an export without instances)."""
        return "" if values[0] is None else str(values[0])

    def key_variants(self, value, row):
        return [cached_fold(value)]

    def resolve_one(self, value, row):
        if self.keys is None:
            self.prepare()
        for key in self.key_variants(value, row):
            found = self.keys.get(key)
            if found is self.AMBIGUOUS:
                raise ValueError(self.ambiguous_message(value))
            if found is not None:
                return found
        raise ValueError(f"No {self.noun} “{value}”.{closest(str(value), self.labels.values())}")

    def ambiguous_message(self, value):
        return f"“{value}” matches more than one {self.noun}: be more specific."

    def clean(self, value, row=None, **kwargs):
        if self.multiple:
            if is_blank(value):
                return []
            parts = [part.strip() for part in str(value).split(MULTI_SEPARATOR)]
            return sorted({self.resolve_one(part, row) for part in parts if part})
        if is_blank(value):
            return None
        return self.resolve_one(str(value).strip(), row)

    def render(self, value, obj=None, **kwargs):
        """Exports pass an instance (or a manager for many-to-many); previews pass pks."""
        if value is None or value == "":
            return ""
        if isinstance(value, PendingRecord):
            return str(value)
        if hasattr(value, "all"):
            return f"{MULTI_SEPARATOR} ".join(self.label_of(item) for item in value.all())
        if isinstance(value, (list, tuple, set)):
            return f"{MULTI_SEPARATOR} ".join(self.render(item) for item in value)
        if isinstance(value, int):
            if self.labels is None:
                self.prepare()
            return self.labels.get(value, str(value))
        return self.label_of(value)


def add_key(keys, key, pk):
    """Map ``key`` to ``pk``; two different records under one key make it ambiguous."""
    if not key:
        return
    existing = keys.get(key)
    if existing is None:
        keys[key] = pk
    elif existing != pk:
        keys[key] = ReferenceWidget.AMBIGUOUS


class PendingRecord:
    """A referenced record the import creates first (a new mayor named on a term row).

    One object per distinct name, shared by every row naming it; the engine saves it before the
    rows that point to it and records it in the batch so a rollback removes it too.
    """

    def __init__(self, instance, label):
        self.instance = instance
        self.label = label

    def __str__(self):
        return f"{self.label} (new)"


class UserWidget(ReferenceWidget):
    """An MMC team member by username or email; blank may mean the person importing."""

    noun = "team member"

    def __init__(self, required=False, default_to_importer=False):
        super().__init__(required=required)
        self.default_to_importer = default_to_importer
        self.user = None

    def load(self):
        from django.contrib.auth import get_user_model

        keys, labels = {}, {}
        for pk, username, email in get_user_model().objects.values_list("pk", "username", "email"):
            add_key(keys, fold(username), pk)
            add_key(keys, fold(email), pk)
            labels[pk] = username
        return keys, labels

    def clean(self, value, row=None, **kwargs):
        if is_blank(value) and self.default_to_importer and self.user is not None:
            return self.user.pk
        return super().clean(value, row, **kwargs)

    label_fields = ("username",)

    def label_of(self, obj):
        return obj.username
