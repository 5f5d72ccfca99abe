"""The search results page and the command palette's type-ahead."""

from django.views.generic import TemplateView

from .actions import actions_for
from .selectors import search


class SearchView(TemplateView):
    """Every kind of record, grouped by kind, best first: ``?q=``."""

    template_name = "crm/search.html"
    per_kind = 10
    limit = 100

    def get_context_data(self, **kwargs):
        results = search(
            user=self.request.user,
            text=self.request.GET.get("q", ""),
            per_kind=self.per_kind,
            limit=self.limit,
        )
        return super().get_context_data(
            query=results.query.text,
            searchable=results.query.is_searchable,
            results=results,
            groups=results.groups,
            total=results.total,
            **kwargs,
        )


class SuggestView(TemplateView):
    """The palette's options for ``?q=``: matching actions, then the best records of each
    kind, then "all results". An HTML fragment of ``role=option`` elements."""

    template_name = "crm/search_suggestions.html"
    per_kind = 3
    limit = 20
    max_actions = 4

    def get_context_data(self, **kwargs):
        text = self.request.GET.get("q", "")
        results = search(
            user=self.request.user, text=text, per_kind=self.per_kind, limit=self.limit
        )
        return super().get_context_data(
            query=results.query.text,
            actions=actions_for(self.request.user, results.query)[: self.max_actions],
            groups=results.groups,
            **kwargs,
        )
