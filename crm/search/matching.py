"""Whether a record matches a query, and how well: decided here, in Python, on every database.

The database only narrows the rows down to candidates (``crm.search.expressions``: full-text
and trigram indexes on PostgreSQL, plain scans on SQLite); every candidate is then judged by
``judge()``, so both databases give the same results and the same order.

A query is a list of words (folded: no accents, lower case). A record matches when every word
is the start of one of its words ("aki sawyerr" finds Aki-Sawyerr, in any order), or, for a
word of four letters or more, is within a typo of a word of its names ("frietown" finds
Freetown). Names are what a record is called (a city's name and aliases, a person's name and
emails, an event's name); the body is its free text (notes, outcomes, descriptions).
"""

import re
from dataclasses import dataclass
from enum import IntEnum

from crm.core.text import fold

_WORD = re.compile(r"[^\W_]+")

#: Typo tolerance applies to query words this long or longer ("sao" is matched exactly).
FUZZY_MIN_LENGTH = 4
#: pg_trgm's default: the share of trigrams two words must have in common to be a typo apart.
FUZZY_THRESHOLD = 0.3
#: Words shorter than this only refine a query: "aki s" looks up "aki" and keeps those with an
#: "s…" word. A query with no longer word searches nothing.
MIN_LOOKUP_LENGTH = 2


def words(text):
    """The folded words of ``text``: letters and digits; everything else separates them."""
    return _WORD.findall(fold(text))


def trigrams(word):
    """pg_trgm's trigrams of one word: padded with two spaces in front and one behind."""
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(a, b):
    """pg_trgm's ``similarity()`` of two words: shared trigrams over all their trigrams."""
    first, second = trigrams(a), trigrams(b)
    shared = len(first & second)
    return shared / (len(first) + len(second) - shared)


def best_similarity(word, candidates):
    return max((similarity(word, other) for other in candidates), default=0.0)


@dataclass(frozen=True)
class Query:
    text: str
    words: tuple

    @classmethod
    def parse(cls, text):
        return cls(text=(text or "").strip(), words=tuple(words(text or "")))

    @property
    def phrase(self):
        return " ".join(self.words)

    @property
    def lookup_words(self):
        """The words the database looks up (the others are checked on the candidates)."""
        return tuple(dict.fromkeys(w for w in self.words if len(w) >= MIN_LOOKUP_LENGTH))

    @property
    def is_searchable(self):
        return bool(self.lookup_words)

    @staticmethod
    def may_be_a_typo(word):
        return len(word) >= FUZZY_MIN_LENGTH


class Tier(IntEnum):
    """How a record matched, best first. Lists sort on it before anything else."""

    TEXT = 1  # some words only in the body
    TYPO = 2  # every word in the names, some within a typo
    NAME_WORDS = 3  # every word starts a word of the names, in any order
    PREFIX = 4  # the name starts with the query
    EXACT = 5  # the name (or an alias) is the query


@dataclass(frozen=True)
class Match:
    tier: Tier
    closeness: float  # 1.0 unless typos: their average similarity
    line: str  # the alias, email or body line that matched ("" when the name did)


def _starts_a_word(word, candidates):
    return any(candidate.startswith(word) for candidate in candidates)


def judge(query, *, title, names=(), body=()):
    """How ``query`` matches a record called ``title`` (also known by ``names``, with free text
    ``body``), or None. ``names`` and ``body`` are sequences of texts; None and "" are skipped."""
    title_words = words(title)
    names = [text for text in names if text]
    body = [text for text in body if text]
    name_words = title_words + [w for text in names for w in words(text)]
    body_words = None  # folded only when a word is not in the names
    closeness, in_body, typos = [], False, False
    for word in query.words:
        if _starts_a_word(word, name_words):
            closeness.append(1.0)
            continue
        if body_words is None:
            body_words = [w for text in body for w in words(text)]
        if _starts_a_word(word, body_words):
            in_body = True
            closeness.append(1.0)
            continue
        if query.may_be_a_typo(word):
            close = best_similarity(word, name_words)
            if close >= FUZZY_THRESHOLD:
                typos = True
                closeness.append(close)
                continue
        return None
    if not query.words:
        return None
    phrase = query.phrase
    title_phrase = " ".join(title_words)
    if in_body:
        tier = Tier.TEXT
    elif typos:
        tier = Tier.TYPO
    elif title_phrase == phrase or any(" ".join(words(n)) == phrase for n in names):
        tier = Tier.EXACT
    elif title_phrase.startswith(phrase):
        tier = Tier.PREFIX
    else:
        tier = Tier.NAME_WORDS
    return Match(
        tier=tier,
        closeness=sum(closeness) / len(closeness),
        line=_matched_line(query, title_words, names, body),
    )


def _line_matches(query, text):
    found = words(text)
    return any(_starts_a_word(word, found) for word in query.words)


def _matched_line(query, title_words, names, body):
    """The alias, email or body line to show under the title, when the title alone did not
    carry the match."""
    if all(_starts_a_word(word, title_words) for word in query.words):
        return ""
    for text in names:
        if _line_matches(query, text):
            return text
    for text in body:
        for line in _LINE_BREAK.split(text):
            if _line_matches(query, line):
                return line.strip()
    return ""


_LINE_BREAK = re.compile(r"\n+|(?<=[.!?])\s+")
SNIPPET_LENGTH = 160


def highlight(query, text, length=SNIPPET_LENGTH):
    """``text`` cut to about ``length`` characters around the first word that matched, as
    (segment, is_match) pairs for a template to mark up."""
    tokens = list(_WORD.finditer(text))
    hits = [t for t in tokens if _token_matches(query, t.group())]
    start, end = 0, len(text)
    if len(text) > length:
        first = hits[0].start() if hits else 0
        start = max(0, min(first - length // 4, len(text) - length))
        end = start + length
    segments, position = [], start
    if start:
        segments.append(("…", False))
    for token in hits:
        if token.start() < start or token.end() > end:
            continue
        if token.start() > position:
            segments.append((text[position : token.start()], False))
        segments.append((token.group(), True))
        position = token.end()
    if position < end:
        segments.append((text[position:end], False))
    if end < len(text):
        segments.append(("…", False))
    return segments


def _token_matches(query, token):
    folded = words(token)
    for word in query.words:
        if _starts_a_word(word, folded):
            return True
        if query.may_be_a_typo(word) and best_similarity(word, folded) >= FUZZY_THRESHOLD:
            return True
    return False
