"""The database side of search: how each database narrows a table down to candidates.

Two backends behind the same ORM expressions, chosen by Django's per-vendor compilation
(``as_postgresql`` / ``as_sqlite``):

- **PostgreSQL** uses its own machinery, with GIN indexes made by ``crm`` migration 0004: a
  record's words are a ``tsvector`` (``crm_search_words()``: ``unaccent``, lower case, the
  ``simple`` configuration) looked up by prefix (``'sawy':*``), and its names are folded text
  (``crm_fold()``) that ``pg_trgm`` compares word by word (``'frietown' <% 'freetown'``, with
  ``pg_trgm.word_similarity_threshold`` at 0.3, set in the connection options).
- **SQLite** gets the same function names as Python functions (registered on every new
  connection) and scans: fine for the demo data and a small team's database.

Either way the rows found are candidates: ``crm.search.matching.judge`` decides.
"""

from django.db.backends.signals import connection_created
from django.db.models import BooleanField, Expression, F, Func, TextField
from django.dispatch import receiver

from crm.core.text import fold

from . import matching


class Folded(Func):
    """``crm_fold(a, b, ...)``: the fields joined by spaces, without accents, lower case."""

    function = "crm_fold"
    output_field = TextField()

    def __init__(self, *fields):
        super().__init__(*[F(field) for field in fields])


class SearchWords(Func):
    """``crm_search_words(a, b, ...)``: the words of the fields (a tsvector on PostgreSQL)."""

    function = "crm_search_words"
    output_field = TextField()

    def __init__(self, *fields):
        super().__init__(*[F(field) for field in fields])


class _Condition(Expression):
    """A WHERE condition on one expression and one query word."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, expression, word):
        super().__init__()
        self.expression = expression
        self.word = word

    def get_source_expressions(self):
        return [self.expression]

    def set_source_expressions(self, expressions):
        (self.expression,) = expressions

    def as_sql(self, compiler, connection):
        raise NotImplementedError(f"search is not implemented for {connection.vendor}")


class HasWordStartingWith(_Condition):
    """Some word of ``SearchWords(...)`` starts with ``word``."""

    def as_postgresql(self, compiler, connection):
        sql, params = compiler.compile(self.expression)
        return f"{sql} @@ to_tsquery('simple'::regconfig, %s)", [*params, f"{self.word}:*"]

    def as_sqlite(self, compiler, connection):
        sql, params = compiler.compile(self.expression)
        return f"{sql} LIKE %s", [*params, f"% {self.word}%"]


class HasWordLike(_Condition):
    """Some word of ``Folded(...)`` is within a typo of ``word`` (trigram similarity)."""

    def as_postgresql(self, compiler, connection):
        sql, params = compiler.compile(self.expression)
        # ``<%``: word_similarity(word, text) >= pg_trgm.word_similarity_threshold; an index
        # operator, and never below the similarity of ``word`` to any single word of the text.
        return f"%s <%% {sql}", [self.word, *params]

    def as_sqlite(self, compiler, connection):
        sql, params = compiler.compile(self.expression)
        return f"crm_has_word_like(%s, {sql})", [self.word, *params]


# --- SQLite: the same functions, in Python ---------------------------------------------------


def _sqlite_fold(*parts):
    return " ".join(fold(part) for part in parts if part)


def _sqlite_search_words(*parts):
    # Spaces around every word, so that ``LIKE '% word%'`` finds the words starting with it.
    return " " + " ".join(w for part in parts if part for w in matching.words(part)) + " "


def _sqlite_has_word_like(word, text):
    close = matching.best_similarity(word, matching.words(text or ""))
    return close >= matching.FUZZY_THRESHOLD


@receiver(connection_created, dispatch_uid="crm.search.sqlite_functions")
def register_sqlite_functions(sender, connection, **kwargs):
    if connection.vendor != "sqlite":
        return
    connection.connection.create_function("crm_fold", -1, _sqlite_fold, deterministic=True)
    connection.connection.create_function(
        "crm_search_words", -1, _sqlite_search_words, deterministic=True
    )
    connection.connection.create_function(
        "crm_has_word_like", 2, _sqlite_has_word_like, deterministic=True
    )
