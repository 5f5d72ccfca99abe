"""One search over every kind of record, shared by the results page and the type-ahead.

One query per kind the user may see (a bounded number, whatever the data), then every
candidate is judged in Python (``matching.judge``) and the hits are sorted best first.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse

from .kinds import KINDS, as_date
from .lookup import candidates
from .matching import Query, highlight, judge


@dataclass
class Hit:
    kind: str
    title: str
    url: str
    description: str
    match: object
    marked_title: list  # (text, is_match) segments of the title
    line: list  # (text, is_match) segments; empty when the title carried the match
    newest: object = None

    @property
    def tier(self):
        return self.match.tier


@dataclass
class Group:
    key: str
    label: str
    hits: list
    count: int
    more: bool  # the lookup stopped at its limit: there may be many more
    list_url: str = ""
    shown: list = field(default_factory=list)
    order: int = 0  # the kind's place in KINDS, between groups as good as each other

    @property
    def best(self):
        return self.hits[0]


@dataclass
class Results:
    query: Query
    groups: list

    @property
    def total(self):
        return sum(group.count for group in self.groups)

    def best_hits(self, limit):
        """The best hits across kinds (for the type-ahead's first lines)."""
        hits = [hit for group in self.groups for hit in group.hits]
        return sorted(hits, key=_rank)[:limit]


def _rank(hit):
    newest = -hit.newest.toordinal() if hit.newest else 0
    return (-hit.match.tier, -hit.match.closeness, newest, hit.title.lower())


def _hits(kind, query, rows):
    hits = []
    for row in rows:
        title = kind.title_of(row)
        match = judge(
            query,
            title=" ".join(str(row[f]) for f in kind.name if row[f]),
            names=[row[f] for f in kind.aliases],
            body=[row[f] for f in kind.body],
        )
        if match is None:
            continue
        hits.append(
            Hit(
                kind=kind.key,
                title=title,
                url=kind.url_of(row),
                description=kind.describe(row) if kind.describe else "",
                match=match,
                marked_title=highlight(query, title, length=len(title)),
                # A record without a name of its own is headed by its text: no need to repeat it.
                line=highlight(query, match.line) if match.line and match.line != title else [],
                newest=as_date(row[kind.newest]) if kind.newest else None,
            )
        )
    return sorted(hits, key=_rank)


def kinds_for(user):
    return [kind for kind in KINDS if user.has_perm(kind.permission)]


def search(*, user, text, per_kind=10, limit=100):
    """Hits for ``text``, grouped by kind (best group first), ``per_kind`` per group, among at
    most ``limit`` candidates of each kind."""
    query = Query.parse(text)
    if not query.is_searchable:
        return Results(query=query, groups=[])
    kinds = kinds_for(user)
    rows_by_kind = candidates(kinds, query, limit)
    groups = []
    for order, kind in enumerate(kinds):
        rows = rows_by_kind[kind.key]
        hits = _hits(kind, query, rows)
        if not hits:
            continue
        list_url = ""
        if kind.list_url_name:
            list_url = f"{reverse(kind.list_url_name)}?{urlencode({'q': query.text})}"
        groups.append(
            Group(
                key=kind.key,
                label=kind.label,
                hits=hits,
                count=len(hits),
                more=len(rows) >= limit,
                list_url=list_url,
                shown=hits[:per_kind],
                order=order,
            )
        )
    groups.sort(key=lambda g: (_rank(g.best)[:2], g.order))
    return Results(query=query, groups=groups)
