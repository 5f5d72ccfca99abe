"""Bulk writes that keep django-simple-history's history, at spreadsheet speed.

``simple_history.utils.bulk_create_with_history`` and ``bulk_update_with_history`` are right
but slow for tens of thousands of rows: Django's ``bulk_create`` compiles every value of every
row separately, and ``bulk_update`` builds one ``CASE WHEN`` per row and field. Here the SQL is
written once per batch and the values are only converted (``get_db_prep_save``): inserts are
multi-row ``INSERT … RETURNING`` (SQLite ≥ 3.35 and PostgreSQL), updates one prepared
``UPDATE`` run with ``executemany``. The history rows are the ones ``bulk_history_create``
makes (same fields, user, change reason and type), inserted the same fast way.

Falls back to the simple-history helpers on a database without ``RETURNING`` for bulk inserts.
"""

# The SQL below is built from model metadata only (quoted table and column names); every value
# is a bound parameter.
# ruff: noqa: S608

from django.db import connections, models, router
from django.utils import timezone
from simple_history.utils import (
    bulk_create_with_history,
    bulk_update_with_history,
    get_history_model_for_model,
)

MAX_PARAMS = 30_000  # under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters
MAX_ROWS = 1_000


def _connection(model):
    return connections[router.db_for_write(model)]


def _insertable_fields(model):
    """Every column but an auto-increment primary key (the database numbers the rows)."""
    auto_pk = _is_auto_pk(model)
    return [f for f in model._meta.concrete_fields if not (f.primary_key and auto_pk)]


def _is_auto_pk(model):
    pk = model._meta.pk
    return pk.auto_created or pk.get_internal_type() in (
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
    )


def _pg_array_casts(fields, connection):
    return [f"%s::{f.db_type(connection)}[]" for f in fields]


def insert_rows(model, fields, rows, *, returning=False):
    """INSERT ``rows`` (lists of database-ready values, one per field); the new pks if asked.

    PostgreSQL gets one array per column (``unnest``), so the statement stays short however
    many rows it carries; SQLite gets multi-row ``VALUES``.
    """
    connection = _connection(model)
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    table = qn(model._meta.db_table)
    suffix = f" RETURNING {qn(model._meta.pk.column)}" if returning else ""
    postgres = connection.vendor == "postgresql"
    per_statement = 5_000 if postgres else max(1, min(MAX_ROWS, MAX_PARAMS // len(fields)))
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    pks = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            if postgres:
                arrays = ", ".join(_pg_array_casts(fields, connection))
                sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}){suffix}"
                params = [list(column) for column in zip(*batch, strict=True)]
            else:
                sql = (
                    f"INSERT INTO {table} ({columns}) VALUES "
                    + ", ".join([one_row] * len(batch))
                    + suffix
                )
                params = [value for row in batch for value in row]
            cursor.execute(sql, params)
            if returning:
                pks.extend(row[0] for row in cursor.fetchall())
    return pks


# Values of these fields are already what the driver takes (str, int, bool, a pk), so the
# per-value get_db_prep_save() call — the bulk of the cost for wide rows — is skipped.
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
)


def _as_is(value, connection):
    return value


def _preparer(field):
    """value → database value for ``field``, as ``get_db_prep_save`` but cheaper per row.

    NULL needs no conversion, and the same object in a row after row (the one timestamp of a
    batch) is converted once.
    """
    if isinstance(field, _PLAIN_FIELDS):
        return _as_is
    convert = field.get_db_prep_save
    last = [object(), None]

    def prepare(value, connection):
        if value is None:
            return None
        if value is last[0]:
            return last[1]
        last[0], last[1] = value, convert(value, connection)
        return last[1]

    return prepare


def _prepared(fields):
    return [(f.attname, _preparer(f)) for f in fields]


def write_history(model, objs, *, history_type, user=None, reason=""):
    """The history rows ``bulk_history_create`` would write, for saved ``objs``."""
    history = get_history_model_for_model(model)
    connection = _connection(history)
    now = timezone.now()
    fixed = {
        "history_date": now,
        "history_type": history_type,
        "history_change_reason": reason or None,
        "history_user_id": user.pk if user is not None else None,
    }
    fields = _insertable_fields(history)
    has_relation = hasattr(history, "history_relation")
    rows = []
    prepared = _prepared(fields)
    for obj in objs:
        row = []
        for attname, prep in prepared:
            if attname in fixed:
                value = fixed[attname]
            elif has_relation and attname == "history_relation_id":
                value = obj.pk
            else:
                value = getattr(obj, attname)
            row.append(prep(value, connection))
        rows.append(row)
    insert_rows(history, fields, rows)


def create_with_history(model, objs, *, user=None, reason=""):
    """Insert new ``objs`` (their pks are set) and their "+" history rows."""
    if not objs:
        return objs
    connection = _connection(model)
    if not connection.features.can_return_rows_from_bulk_insert or not _is_auto_pk(model):
        return bulk_create_with_history(
            objs, model, batch_size=500, default_user=user, default_change_reason=reason
        )
    fields = _insertable_fields(model)
    # What save() would stamp (auto_now / auto_now_add): one timestamp for the batch.
    now = timezone.now()
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            for obj in objs:
                setattr(obj, f.attname, now)
    preparers = _prepared(fields)
    rows = [
        [prep(getattr(obj, attname), connection) for attname, prep in preparers] for obj in objs
    ]
    for obj, pk in zip(objs, insert_rows(model, fields, rows, returning=True), strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    write_history(model, objs, history_type="+", user=user, reason=reason)
    return objs


def update_with_history(model, objs, attnames, *, user=None, reason=""):
    """Write ``attnames`` of saved ``objs`` and their "~" history rows."""
    if not objs:
        return
    connection = _connection(model)
    if not connection.features.can_return_rows_from_bulk_insert:
        bulk_update_with_history(
            objs,
            model,
            list(attnames),
            batch_size=500,
            default_user=user,
            default_change_reason=reason,
        )
        return
    if attnames:
        _update_rows(connection, model, attnames, objs)
    write_history(model, objs, history_type="~", user=user, reason=reason)


def _update_rows(connection, model, attnames, objs):
    qn = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if f.attname in set(attnames)]
    pk = model._meta.pk
    table = qn(model._meta.db_table)
    preparers = [(f.attname, _preparer(f)) for f in fields]
    params = [
        [obj.pk] + [prep(getattr(obj, attname), connection) for attname, prep in preparers]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement per 5,000 rows: the new values arrive as one array per column.
            names = ["pk", *(f"c{i}" for i in range(len(fields)))]
            arrays = ", ".join(_pg_array_casts([pk, *fields], connection))
            sql = (
                f"UPDATE {table} SET "
                + ", ".join(f"{qn(f.column)} = v.c{i}" for i, f in enumerate(fields))
                + f" FROM unnest({arrays}) AS v({', '.join(names)})"
                + f" WHERE {table}.{qn(pk.column)} = v.pk"
            )
            for start in range(0, len(params), 5_000):
                batch = params[start : start + 5_000]
                cursor.execute(sql, [list(column) for column in zip(*batch, strict=True)])
        else:
            sql = (
                f"UPDATE {table} SET "
                + ", ".join(f"{qn(f.column)} = %s" for f in fields)
                + f" WHERE {qn(pk.column)} = %s"
            )
            cursor.executemany(sql, [row[1:] + row[:1] for row in params])
