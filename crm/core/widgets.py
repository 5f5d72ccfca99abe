"""Searchable pickers: selects that render only the chosen options and fetch the rest as the
user types (static/js/crm.js turns them into Tom Select boxes), so a form never ships a
select box of thousands of cities or contacts."""

import django_filters
from django import forms
from django.forms.utils import flatatt
from django.urls import reverse_lazy
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


class PickerMixin:
    def __init__(self, url_name, attrs=None, **kwargs):
        self.url_name = url_name
        super().__init__(attrs=attrs, **kwargs)

    def get_context(self, name, value, attrs):
        attrs = {
            **(attrs or {}),
            "data-picker": "",
            "data-picker-url": str(reverse_lazy(self.url_name)),
        }
        return super().get_context(name, value, attrs)

    def optgroups(self, name, value, attrs=None):
        # Only the selected values are rendered; the queryset is filtered to them.
        selected = {str(v) for v in value if v not in (None, "")}
        if not selected:
            return []
        original = self.choices
        try:
            queryset = getattr(original, "queryset", None)
            if queryset is not None:
                self.choices = type(original)(original.field)
                self.choices.queryset = queryset.filter(pk__in=selected)
            return super().optgroups(name, value, attrs)
        finally:
            self.choices = original


class PickerSelect(PickerMixin, forms.Select):
    pass


class PickerSelectMultiple(PickerMixin, forms.SelectMultiple):
    pass


class PlainSelect(forms.Select):
    """A select box written in one pass instead of one template per option: a filter of ~250
    countries otherwise costs tens of milliseconds on every page that shows it."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (
                    option["value"],
                    mark_safe(" selected") if option["selected"] else "",
                    option["label"],
                )
                for _, group, _ in widget["optgroups"]
                for option in group
            ),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), options
        )


class YesNoAny(forms.NullBooleanSelect):
    """A yes/no filter: ?x=true / false, and "Any" (not Django's "Unknown") for no filter."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", "Any"), ("true", "Yes"), ("false", "No")]


class DateRangeInputs(django_filters.widgets.DateRangeWidget):
    """Two labelled dates ("from", "to") instead of two bare inputs around a loose dash."""

    template_name = "crm/widgets/date_range.html"

    def __init__(self, attrs=None):
        super().__init__(attrs={"type": "date", **(attrs or {})})
