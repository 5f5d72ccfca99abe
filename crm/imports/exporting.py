"""Streaming exports: CSV row by row, XLSX through openpyxl's write-only workbook.

The library's ``export()`` builds a whole tablib Dataset in memory; here rows are rendered one
at a time from ``queryset.iterator()`` with the same resource fields and widgets, so a large
export keeps a flat memory profile. The header row is the import template's.
"""

import csv
import tempfile

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from crm.core.import_widgets import EmailWidget, ReferenceWidget, TextWidget

from .files import FORMULA_TRIGGERS

CHUNK_SIZE = 2000
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def neutralise(value):
    """A cell a spreadsheet would run as a formula gets a leading quote (imports remove it)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _text(attribute):
    def render(obj):
        value = getattr(obj, attribute)
        return "" if value is None else str(value)

    return render


def _renderers(resource):
    """One callable per export column, resolved once rather than for every row.

    A plain text column skips the Field/widget indirection: at 100,000 rows × a dozen columns
    the per-cell overhead is most of an export's time.
    """
    renderers = []
    for res_field in resource.get_export_fields():
        name = resource.get_field_name(res_field)
        method = getattr(resource, res_field.get_dehydrate_method(name), None)
        if callable(method):
            renderers.append(method)
        elif type(res_field.widget) in (TextWidget, EmailWidget) and "__" not in (
            res_field.attribute or "__"
        ):
            renderers.append(_text(res_field.attribute))
        else:
            renderers.append(res_field.export)
    return renderers


def _column_renderers(resource, columns):
    """Renderers reading a ``values_list`` row: the export path when no column needs an
    instance (no many-to-many, no dehydrate method). Building 100,000 model instances (and
    their related ones) is most of what an instance-based export costs."""
    index = {column: i for i, column in enumerate(columns)}
    renderers = []
    for res_field in resource.get_export_fields():
        path, widget = res_field.attribute, res_field.widget
        if isinstance(widget, ReferenceWidget):
            positions = [index[f"{path}__{name}"] for name in widget.label_fields]

            def render(row, positions=positions, widget=widget):
                return widget.label_from_values([row[i] for i in positions])

        elif type(widget) in (TextWidget, EmailWidget):

            def render(row, i=index[path]):
                return "" if row[i] is None else str(row[i])

        else:

            def render(row, i=index[path], widget=widget):
                return widget.render(row[i])

        renderers.append(render)
    return renderers


def _needs_instances(resource):
    for res_field in resource.get_export_fields():
        name = resource.get_field_name(res_field)
        if callable(getattr(resource, res_field.get_dehydrate_method(name), None)):
            return True
        if isinstance(res_field.widget, ReferenceWidget) and res_field.widget.multiple:
            return True
    return resource.export_columns() is None


def export_rows(resource, queryset):
    """The header, then one list of cell strings per record."""
    yield resource.get_export_headers()
    queryset = resource.export_queryset(queryset)
    if not queryset.query.order_by and not queryset.model._meta.ordering:
        queryset = queryset.order_by("pk")
    if _needs_instances(resource):
        renderers = _renderers(resource)
        rows = queryset.iterator(chunk_size=CHUNK_SIZE)
    else:
        columns = list(dict.fromkeys(resource.export_columns()))
        renderers = _column_renderers(resource, columns)
        rows = queryset.values_list(*columns).iterator(chunk_size=CHUNK_SIZE)
    for row in rows:
        yield [neutralise(render(row)) for render in renderers]


class _Echo:
    def write(self, value):
        return value


def iter_csv(resource, queryset):
    writer = csv.writer(_Echo())
    # A byte-order mark so Excel opens the UTF-8 file with its accents intact.
    yield "\ufeff"
    for row in export_rows(resource, queryset):
        yield writer.writerow(row)


def write_csv(resource, queryset, fileobj):
    for chunk in iter_csv(resource, queryset):
        fileobj.write(chunk)


def write_xlsx(resource, queryset, fileobj):
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=resource.entity[:31] or "Export")
    for row in export_rows(resource, queryset):
        # Cells are text; neutralise() already put a quote before "=", so openpyxl never
        # stores one as a live formula. Control characters are not allowed in XLSX at all.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", value) if value else None for value in row])
    workbook.save(fileobj)


def filename_for(entity, fmt, template=False):
    stamp = "template" if template else timezone.localdate().isoformat()
    return f"{entity}-{stamp}.{fmt}"


def export_response(resource, queryset, fmt, filename):
    """A streamed CSV, or an XLSX built in a temporary file and streamed from disk."""
    if fmt == "csv":
        response = StreamingHttpResponse(iter_csv(resource, queryset), content_type=CSV_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    # Not a context manager: FileResponse closes it once the download is sent.
    spool = tempfile.TemporaryFile()  # noqa: SIM115
    write_xlsx(resource, queryset, spool)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=filename, content_type=XLSX_TYPE)
