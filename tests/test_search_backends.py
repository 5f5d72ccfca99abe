"""The two search backends agree: PostgreSQL's own functions give what the Python side (used to
judge every candidate, and as the SQLite backend) computes, and every kind's lookup uses the GIN
indexes the migration built. PostgreSQL only: skipped locally, run under CI."""

import pytest
from django.db import connection

from crm.search import lookup
from crm.search.kinds import KINDS
from crm.search.matching import Query, best_similarity, similarity, words

from .conftest import require

pytestmark = pytest.mark.django_db

TEXTS = [
    "São Paulo | Sampa",
    "Yvonne Aki-Sawyerr yvonne@freetown.gov.sl",
    "Zürich, Ørsted & Łódź: 12.5 % of l'Hospitalet",
    "COVID-19 response (2020-2022) — see https://example.org/a_b?c=d",
    "Ciudad Juárez #12, Bogotá D.C.",
]
WORD_PAIRS = [
    ("frietown", "freetown"),
    ("paolo", "paulo"),
    ("bogata", "bogota"),
    ("zurich", "zuerich"),
    ("sawyer", "sawyerr"),
    ("amman", "aman"),
    ("kampala", "kampla"),
    ("shelter", "shelters"),
]


@pytest.fixture
def postgresql():
    require(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL)")


def _one(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_folding_gives_the_same_words_in_postgresql_and_python(postgresql):
    # Punctuation may differ (unaccent turns a dash into a hyphen); the words may not.
    for text in TEXTS:
        folded = _one("SELECT crm_fold(%s)", [text])
        assert folded == folded.lower()
        assert words(folded) == words(text), text


def test_the_words_of_a_text_are_the_same_in_postgresql_and_python(postgresql):
    for text in TEXTS:
        lexemes = _one("SELECT tsvector_to_array(crm_search_words(%s))", [text])
        assert sorted(lexemes) == sorted(set(words(text))), text


def test_trigram_similarity_is_pg_trgms(postgresql):
    for a, b in WORD_PAIRS:
        assert _one("SELECT similarity(%s, %s)", [a, b]) == pytest.approx(similarity(a, b))


def test_the_typo_lookup_finds_every_name_python_accepts(postgresql):
    # PostgreSQL narrows candidates with word_similarity (an index operator); Python then keeps
    # a candidate when one of its words is close enough. The first must never be stricter.
    assert _one("SHOW pg_trgm.word_similarity_threshold", []) == "0.3"
    for word, _ in WORD_PAIRS:
        for text in [*TEXTS, *(b for _, b in WORD_PAIRS)]:
            if best_similarity(word, words(text)) >= 0.3:
                assert _one("SELECT %s <%% crm_fold(%s)", [word, text]), (word, text)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.key)
def test_every_kind_is_looked_up_through_its_indexes(postgresql, kind):
    query = Query.parse("frietown")
    words_, typos = query.lookup_words, (True,)
    sql, templates = lookup._statement((kind,), typos, 20)
    params = [lookup._fill(template, words_) for template in templates]
    with connection.cursor() as cursor:
        # Tables are tiny in tests: forbid scanning the table or walking another index
        # from end to end, so that only a usable GIN index (bitmap scans) avoids them.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_indexonlyscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    table = kind.model._meta.db_table
    assert f"{table}_search_words" in plan, plan
    if kind.typo_tolerant:
        assert f"{table}_search_names" in plan, plan
    assert f"Seq Scan on {table} " not in plan, plan
