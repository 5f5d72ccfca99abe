"""Global search: one box for cities, contacts and mayors."""

from urllib.parse import urlencode

from django.db.models import Prefetch, Q
from django.urls import reverse
from django.views.generic import TemplateView

from cities.models import City, Contact, Mayor, MayoralTerm
from crm.core.text import fold


class SearchView(TemplateView):
    """One box for cities (accents and aliases ignored), contacts and mayors: ``?q=``."""

    template_name = "crm/search.html"
    per_section = 10

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()
        folded = fold(query)
        user = self.request.user
        sections = []
        if folded and user.has_perm("cities.view_city"):
            cities = City.objects.filter(search_text__contains=folded).select_related("country")
            sections.append(("Cities", "cities:city_list", cities))
        if folded and user.has_perm("cities.view_contact"):
            contacts = Contact.objects.filter(
                Q(name_key__contains=folded)
                | Q(email__contains=folded)
                | Q(organisation__icontains=query)
            ).select_related("city")
            sections.append(("Contacts", "cities:contact_list", contacts))
        if folded and user.has_perm("cities.view_mayor"):
            current = MayoralTerm.objects.current().select_related("city")
            mayors = Mayor.objects.filter(name_key__contains=folded).prefetch_related(
                Prefetch("terms", queryset=current, to_attr="current_terms")
            )
            sections.append(("Mayors", "cities:mayor_list", mayors))
        results = [
            {
                "title": title,
                "list_url": f"{reverse(list_name)}?{urlencode({'q': query})}",
                "count": queryset.count(),
                "items": list(queryset[: self.per_section]),
                "kind": title.lower(),
            }
            for title, list_name, queryset in sections
        ]
        return super().get_context_data(
            query=query,
            results=results,
            total=sum(section["count"] for section in results),
            **kwargs,
        )
