"""Search on PostgreSQL: the unaccent and pg_trgm extensions, two SQL functions and, per kind of
record, a GIN index on its words (full text) and one on its folded names (trigrams).

The functions and field lists mirror ``crm.search.expressions`` and ``crm.search.kinds``; a
query uses an index only when its expression is the index's, which
``tests/test_search_backends.py`` checks. On SQLite every operation here does nothing (the
functions are registered on each connection there, in Python).
"""

from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

# (table, words fields, names fields or None): the order of the fields matters.
SEARCH_INDEXES = [
    ("cities_city", ["name", "aliases", "notes"], ["name", "aliases"]),
    (
        "cities_contact",
        ["first_name", "last_name", "email", "title", "organisation", "notes"],
        ["first_name", "last_name", "email"],
    ),
    ("cities_mayor", ["full_name", "email", "notes"], ["full_name", "email"]),
    ("engagements_engagement", ["summary", "outcome"], None),
    ("engagements_tarequest", ["topic", "description"], ["topic"]),
    ("engagements_event", ["name", "place", "notes"], ["name"]),
    ("engagements_participation", ["outcome"], None),
    ("engagements_policycontribution", ["title", "summary"], ["title"]),
    ("engagements_policyoutcome", ["title", "description"], ["title"]),
    ("pledges_pledge", ["title", "description"], ["title"]),
    ("pledges_pledgeupdate", ["note"], None),
    ("outreach_campaign", ["name", "subject", "body"], ["name", "subject"]),
]

FUNCTIONS = """
-- The fields joined by spaces, without accents, in lower case. IMMUTABLE so that indexes can
-- use it (unaccent itself is only STABLE because its dictionary could be changed).
CREATE OR REPLACE FUNCTION {schema}.crm_fold(VARIADIC parts text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT lower({unaccent_schema}.unaccent(
        '{unaccent_schema}.unaccent'::regdictionary, array_to_string(parts, ' '))) $$;

-- The words of the fields. Emails, web addresses, decimals and hyphens are split into their
-- parts first, as Python's crm.search.matching.words() splits them.
CREATE OR REPLACE FUNCTION {schema}.crm_search_words(VARIADIC parts text[]) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT to_tsvector('simple'::regconfig,
        translate({schema}.crm_fold(VARIADIC parts), '@./:-', '     ')) $$;
"""


def _postgresql(schema_editor):
    return schema_editor.connection.vendor == "postgresql"


def create(apps, schema_editor):
    if not _postgresql(schema_editor):
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'unaccent'"
        )
        unaccent_schema = cursor.fetchone()[0]
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        cursor.execute(FUNCTIONS.format(schema=schema, unaccent_schema=unaccent_schema))
        for table, word_fields, name_fields in SEARCH_INDEXES:
            columns = ", ".join(f'"{f}"' for f in word_fields)
            cursor.execute(
                f'CREATE INDEX "{table}_search_words" ON "{table}" '
                f"USING gin ({schema}.crm_search_words({columns}))"
            )
            if name_fields:
                columns = ", ".join(f'"{f}"' for f in name_fields)
                cursor.execute(
                    f'CREATE INDEX "{table}_search_names" ON "{table}" '
                    f"USING gin ({schema}.crm_fold({columns}) gin_trgm_ops)"
                )


def drop(apps, schema_editor):
    if not _postgresql(schema_editor):
        return
    with schema_editor.connection.cursor() as cursor:
        for table, _, name_fields in SEARCH_INDEXES:
            cursor.execute(f'DROP INDEX IF EXISTS "{table}_search_words"')
            if name_fields:
                cursor.execute(f'DROP INDEX IF EXISTS "{table}_search_names"')
        cursor.execute("DROP FUNCTION IF EXISTS crm_search_words(VARIADIC text[])")
        cursor.execute("DROP FUNCTION IF EXISTS crm_fold(VARIADIC text[])")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0003_import_batch"),
        ("cities", "0004_indexes_and_messages"),
        ("engagements", "0002_indexes_for_lists"),
        ("outreach", "0002_reminder_done_status"),
        ("pledges", "0004_list_indexes"),
    ]

    operations = [
        UnaccentExtension(),
        TrigramExtension(),
        migrations.RunPython(create, drop),
    ]
