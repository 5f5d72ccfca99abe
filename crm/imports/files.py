"""Reading spreadsheets as people have them: CSV in any common encoding and delimiter, or XLSX.

The library's formats load a whole file through tablib and trust the file's extension; here the
content decides (an XLSX is a zip, anything else must decode as text), the encoding and the
delimiter are sniffed, and rows are yielded one at a time so a large XLSX never sits in memory.
"""

import csv
import datetime
import io
import zipfile

from django.conf import settings


class ImportFileError(Exception):
    """A file that cannot be read at all: one clear message, nothing changed."""


# What a spreadsheet would run as a formula; exports put a quote in front (see exporting.py).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format


def max_upload_bytes():
    return settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024


def check_size(size):
    if size > max_upload_bytes():
        raise ImportFileError(
            f"The file is too large ({size / 1024 / 1024:.1f} MB): the limit is "
            f"{settings.IMPORT_MAX_UPLOAD_MB} MB. Split it into smaller files."
        )


def decode_text(data):
    """Bytes of a CSV file → text: UTF-8 (with or without BOM), else Windows-1252/Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 maps every byte.
        return data.decode("latin-1")


def sniff_delimiter(text):
    """The delimiter of the first non-blank line: comma, semicolon (Excel in Europe) or tab."""
    for line in text.splitlines():
        if line.strip(" ,;\t"):
            counts = {delim: _count_outside_quotes(line, delim) for delim in (",", ";", "\t")}
            best = max(counts, key=counts.get)
            return best if counts[best] else ","
    return ","


def _count_outside_quotes(line, delim):
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delim and not quoted:
            count += 1
    return count


def _looks_binary(data):
    sample = data[:4096]
    if b"\x00" in sample:
        return True
    controls = sum(1 for byte in sample if byte < 9 or 13 < byte < 32)
    return bool(sample) and controls / len(sample) > 0.05


def _clean_cell(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time(0):
        return value.date()
    if isinstance(value, str):
        return value.strip()
    return value


def iter_csv_rows(text):
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        for number, row in enumerate(reader, start=1):
            yield number, [cell.strip() for cell in row]
    except csv.Error as error:
        raise ImportFileError(f"The CSV file could not be read: {error}.") from error


def iter_xlsx_rows(fileobj):
    # Imported here: openpyxl takes a moment to import and most requests never need it.
    from openpyxl import load_workbook

    try:
        # data_only: a formula cell gives the value Excel last calculated, never the formula.
        workbook = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(
            "The file looks like an Excel workbook but could not be opened. "
            "Save it again as .xlsx or CSV."
        ) from error
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_clean_cell(value) for value in row]
    finally:
        workbook.close()


def iter_rows(fileobj):
    """(row number, [cells]) for every row of a CSV or XLSX file, decided by the content."""
    fileobj.seek(0)
    head = fileobj.read(8)
    fileobj.seek(0)
    if head.startswith(_XLSX_MAGIC):
        if not zipfile.is_zipfile(fileobj):
            raise ImportFileError("The file is not a readable spreadsheet.")
        fileobj.seek(0)
        return iter_xlsx_rows(fileobj)
    if head.startswith(_OLE_MAGIC):
        raise ImportFileError(
            "Old Excel files (.xls) are not supported: save it as .xlsx or CSV and upload again."
        )
    data = fileobj.read()
    if not data.strip():
        raise ImportFileError("The file is empty.")
    if _looks_binary(data):
        raise ImportFileError(
            "This is not a spreadsheet: upload a CSV file or an Excel workbook (.xlsx)."
        )
    return iter_csv_rows(decode_text(data))


def unquote_cell(value):
    """Undo the export's formula neutralisation, so an exported file imports unchanged."""
    if (
        isinstance(value, str)
        and len(value) > 1
        and value[0] == "'"
        and value[1] in FORMULA_TRIGGERS
    ):
        return value[1:]
    return value
