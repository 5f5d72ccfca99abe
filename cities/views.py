"""Pages for cities, contacts, mayors, mayoral terms and the Leadership Board."""

from django.db.models import Prefetch, Q

from crm.generic import PickerView

from .models import City, Contact, Mayor, MayoralTerm

# --- JSON pickers used by forms across the apps (crm.widgets.PickerSelect) -----------------


class CityPickerView(PickerView):
    """Cities by folded name or alias: "sao paulo" and "SP" both find São Paulo."""

    model = City

    def get_queryset(self):
        return City.objects.select_related("country").order_by("name", "pk")

    def filter_queryset(self, queryset, query):
        return queryset.filter(search_text__contains=query)

    def label(self, city):
        return f"{city.name}, {city.country.name}"


class ContactPickerView(PickerView):
    """Contacts by folded name or email, labelled with their city or organisation."""

    model = Contact

    def get_queryset(self):
        return Contact.objects.select_related("city").order_by("last_name", "first_name", "pk")

    def filter_queryset(self, queryset, query):
        return queryset.filter(Q(name_key__contains=query) | Q(email__contains=query))

    def label(self, contact):
        where = contact.city.name if contact.city else contact.organisation
        return f"{contact.full_name} — {where}" if where else contact.full_name


class MayorPickerView(PickerView):
    """Mayors by folded name, labelled with the city they currently lead."""

    model = Mayor

    def get_queryset(self):
        current = MayoralTerm.objects.current().select_related("city")
        return Mayor.objects.prefetch_related(
            Prefetch("terms", queryset=current, to_attr="current_terms")
        ).order_by("full_name", "pk")

    def filter_queryset(self, queryset, query):
        return queryset.filter(name_key__contains=query)

    def label(self, mayor):
        if mayor.current_terms:
            return f"{mayor.full_name} — {mayor.current_terms[0].city.name}"
        return mayor.full_name
