"""One database query for every kind of record: the candidates of each kind, ``UNION ALL``.

A search asks every kind the user may see; one statement instead of a dozen saves the round
trips, and its SQL is compiled once per *shape* (which kinds, how many words, which of them may
be typos) and then reused with the words of each query as parameters: compiling a dozen ORM
querysets costs more than running them.
"""

import json
from functools import lru_cache

from django.db import connection

# Stand-ins for the query's words while the SQL is compiled; replaced in the parameters.
_PLACEHOLDER = "\x00word{}\x00"


@lru_cache(maxsize=512)
def _statement(kinds, typos, limit):
    """(sql, parameter templates) of the lookup of ``kinds`` for words shaped like ``typos``."""
    words = [_PLACEHOLDER.format(i) for i in range(len(typos))]
    parts, params = [], []
    for kind in kinds:
        queryset = kind.candidates(words, typos, limit)
        sql, kind_params = queryset.query.sql_with_params()
        # A derived table, so that each kind keeps its own LIMIT (SQLite allows no LIMIT on
        # the members of a compound SELECT).
        parts.append(f"SELECT * FROM ({sql}) AS search_{kind.key}")  # noqa: S608 (ORM-compiled)
        params.extend(kind_params)
    return " UNION ALL ".join(parts), tuple(params)


def _fill(template, words):
    if not isinstance(template, str) or "\x00" not in template:
        return template
    for i, word in enumerate(words):
        template = template.replace(_PLACEHOLDER.format(i), word)
    return template


def candidates(kinds, query, limit):
    """{kind key: [row dict, ...]}: at most ``limit`` candidates per kind."""
    words = query.lookup_words
    found = {kind.key: [] for kind in kinds}
    if not kinds or not words:
        return found
    typos = tuple(query.may_be_a_typo(word) for word in words)
    sql, templates = _statement(tuple(kinds), typos, limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, [_fill(template, words) for template in templates])
        for key, row in cursor.fetchall():
            found[key].append(json.loads(row) if isinstance(row, str) else row)
    return found
