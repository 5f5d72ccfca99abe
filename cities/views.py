"""Pages for cities, contacts, mayors, mayoral terms and the Leadership Board."""

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, Prefetch, Q, When
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse, reverse_lazy
from django.utils import timezone
from django.views.generic import FormView, TemplateView

from crm.core.generic import (
    ModelPermissionMixin,
    PickerView,
    RecordCreateView,
    RecordDeleteView,
    RecordDetailView,
    RecordListView,
    RecordUpdateView,
)

from .filters import CityFilter, ContactFilter, MayorFilter
from .forms import (
    BoardSeatForm,
    CityForm,
    ContactForm,
    MayoralTermEndForm,
    MayoralTermForm,
    MayoralTermStartForm,
    MayorForm,
)
from .models import BoardSeat, City, Contact, Mayor, MayoralTerm
from .services import board_seat_save, mayoral_term_start

# Board seats ending within this many days are highlighted.
BOARD_SOON = timedelta(days=90)

# --- JSON pickers used by forms across the apps (crm.core.widgets.PickerSelect) -----------------


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


# --- Shared helpers -----------------------------------------------------------------------


def _current_terms():
    return Prefetch(
        "mayoral_terms",
        queryset=MayoralTerm.objects.current().select_related("mayor"),
        to_attr="current_terms",
    )


def _optional_url(name, query=""):
    """The URL of a page another app provides, or None while that page does not exist yet."""
    try:
        return reverse(name) + query
    except NoReverseMatch:
        return None


# --- Cities -------------------------------------------------------------------------------


class CityListView(RecordListView):
    model = City
    filterset_class = CityFilter

    def get_queryset(self):
        return City.objects.select_related("country").prefetch_related("networks", _current_terms())


class CityDetailView(RecordDetailView):
    model = City
    contacts_shown = 12  # focal points first; the rest are one click away in the contact list

    def get_queryset(self):
        return City.objects.select_related("country").prefetch_related("networks", "tags")

    def get_context_data(self, **kwargs):
        city = self.object
        terms = list(city.mayoral_terms.select_related("mayor"))
        current = next((term for term in terms if term.is_current), None)
        today = timezone.localdate()
        seat = None
        if current:
            seat = BoardSeat.objects.on(today).filter(mayor=current.mayor_id).first()
        contacts = city.contacts.order_by("-is_focal_point", "last_name", "first_name", "pk")
        shown = list(contacts[: self.contacts_shown + 1])
        user = self.request.user
        context = super().get_context_data(
            current_term=current,
            past_terms=[term for term in terms if not term.is_current],
            board_seat=seat,
            seat_ends_soon=seat is not None and seat.end_date <= today + BOARD_SOON,
            contacts=shown[: self.contacts_shown],
            contacts_count=contacts.count() if len(shown) > self.contacts_shown else len(shown),
            log_engagement_url=user.has_perm("engagements.add_engagement")
            and _optional_url("engagements:engagement_create", f"?city={city.pk}"),
            can_delete=user.has_perm("cities.delete_city"),
            **kwargs,
        )
        return context


class CityCreateView(RecordCreateView):
    model = City
    form_class = CityForm


class CityUpdateView(RecordUpdateView):
    model = City
    form_class = CityForm


class CityDeleteView(RecordDeleteView):
    model = City
    success_url = reverse_lazy("cities:city_list")


# --- Contacts -----------------------------------------------------------------------------


class ContactListView(RecordListView):
    model = Contact
    filterset_class = ContactFilter

    def get_queryset(self):
        return Contact.objects.select_related("city__country")


class ContactDetailView(RecordDetailView):
    model = Contact

    def get_queryset(self):
        return Contact.objects.select_related("city__country")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            can_delete=self.request.user.has_perm("cities.delete_contact"), **kwargs
        )


class ContactCreateView(RecordCreateView):
    model = Contact
    form_class = ContactForm

    def get_initial(self):
        # "Add contact" on a city page arrives with ?city=<pk>.
        initial = super().get_initial()
        city = City.objects.filter(pk=self.request.GET.get("city") or None).first()
        if city:
            initial["city"] = city
        return initial

    def get_success_url(self):
        if self.request.GET.get("city") and self.object.city_id:
            return self.object.city.get_absolute_url()
        return super().get_success_url()


class ContactUpdateView(RecordUpdateView):
    model = Contact
    form_class = ContactForm


class ContactDeleteView(RecordDeleteView):
    model = Contact
    success_url = reverse_lazy("cities:contact_list")


# --- Mayors and their terms -----------------------------------------------------------------


class MayorListView(RecordListView):
    model = Mayor
    filterset_class = MayorFilter

    def get_queryset(self):
        today = timezone.localdate()
        return Mayor.objects.prefetch_related(
            Prefetch(
                "terms",
                queryset=MayoralTerm.objects.current().select_related("city__country"),
                to_attr="current_terms",
            ),
            Prefetch("board_seats", queryset=BoardSeat.objects.on(today), to_attr="seats_now"),
        )


class MayorDetailView(RecordDetailView):
    model = Mayor

    def get_context_data(self, **kwargs):
        mayor = self.object
        today = timezone.localdate()
        terms = list(mayor.terms.select_related("city__country"))
        seats = list(mayor.board_seats.order_by("-start_date"))
        for seat in seats:
            seat.is_now = seat.start_date <= today <= seat.end_date
        return super().get_context_data(
            terms=terms,
            seats=seats,
            today=today,
            can_delete=self.request.user.has_perm("cities.delete_mayor"),
            **kwargs,
        )


class MayorCreateView(RecordCreateView):
    model = Mayor
    form_class = MayorForm


class MayorUpdateView(RecordUpdateView):
    model = Mayor
    form_class = MayorForm


class MayorDeleteView(RecordDeleteView):
    model = Mayor
    success_url = reverse_lazy("cities:mayor_list")


class MayoralTermStartView(ModelPermissionMixin, FormView):
    """A mayor takes office; opened from a city page (?city=) or a mayor page (?mayor=)."""

    model = MayoralTerm
    permission_action = "add"
    form_class = MayoralTermStartForm
    template_name = "crm/record_form.html"

    def get_initial(self):
        initial = {"start_date": timezone.localdate()}
        for key, model in (("city", City), ("mayor", Mayor)):
            obj = model.objects.filter(pk=self.request.GET.get(key) or None).first()
            if obj:
                initial[key] = obj
        return initial

    def get_context_data(self, **kwargs):
        return super().get_context_data(opts=MayoralTerm._meta, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            term = mayoral_term_start(
                city=data["city"],
                mayor=data["mayor"],
                new_mayor_name=data["new_mayor_name"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                end_current_term=data["end_current_term"],
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        messages.success(self.request, f"{term.mayor} is recorded as mayor of {term.city}.")
        return redirect(term.city)


class MayoralTermUpdateView(RecordUpdateView):
    model = MayoralTerm
    form_class = MayoralTermForm
    success_message = "The term was saved."


class MayoralTermDeleteView(RecordDeleteView):
    """For a term recorded by mistake; a term that ended is kept by ending it, not deleting."""

    model = MayoralTerm

    def get_success_url(self):
        return self.object.city.get_absolute_url()


class MayoralTermEndView(RecordUpdateView):
    model = MayoralTerm
    form_class = MayoralTermEndForm

    def get_success_message(self, cleaned_data):
        return f"{self.object.mayor}'s term in {self.object.city} ended on {self.object.end_date:%d %b %Y}."

    def get_success_url(self):
        return self.object.city.get_absolute_url()


# --- Leadership Board ---------------------------------------------------------------------


class BoardView(ModelPermissionMixin, TemplateView):
    """The board on a date (``?on=YYYY-MM-DD``, today by default): co-chairs first."""

    model = BoardSeat
    template_name = "cities/board.html"

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        raw = self.request.GET.get("on", "")
        try:
            day = date.fromisoformat(raw) if raw else today
            bad_date = False
        except ValueError:
            day, bad_date = today, True
        # A mayor's city is the one they governed on that day (or their latest).
        terms = MayoralTerm.objects.select_related("city__country").order_by("-start_date")
        seats = list(
            BoardSeat.objects.on(day)
            .select_related("mayor")
            .prefetch_related(Prefetch("mayor__terms", queryset=terms))
            .order_by(
                Case(When(role=BoardSeat.Role.CO_CHAIR, then=0), default=1),
                "mayor__full_name",
                "pk",
            )
        )
        soon = day + BOARD_SOON
        for seat in seats:
            seat.ends_soon = seat.end_date <= soon
            terms_newest_first = list(seat.mayor.terms.all())
            term = next(
                (
                    t
                    for t in terms_newest_first
                    if t.start_date <= day and (t.end_date is None or t.end_date >= day)
                ),
                terms_newest_first[0] if terms_newest_first else None,
            )
            seat.city = term.city if term else None
        return super().get_context_data(
            day=day,
            today=today,
            bad_date=bad_date,
            raw_date=raw,
            seats=seats,
            soon=soon,
            ending_soon_count=sum(seat.ends_soon for seat in seats),
            can_add=self.request.user.has_perm("cities.add_boardseat"),
            can_change=self.request.user.has_perm("cities.change_boardseat"),
            **kwargs,
        )


class BoardSeatSaveMixin:
    def form_valid(self, form):
        try:
            board_seat_save(seat=form.instance)
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        self.object = form.instance
        messages.success(self.request, self.get_success_message(form.cleaned_data))
        return redirect(self.get_success_url())


class BoardSeatCreateView(BoardSeatSaveMixin, RecordCreateView):
    model = BoardSeat
    form_class = BoardSeatForm
    success_message = "Board seat saved: %(object)s."

    def get_initial(self):
        initial = {"start_date": timezone.localdate()}
        mayor = Mayor.objects.filter(pk=self.request.GET.get("mayor") or None).first()
        if mayor:
            initial["mayor"] = mayor
            # Renewing: the new seat starts the day after the latest one ends.
            latest = mayor.board_seats.order_by("-end_date").first()
            if latest and latest.end_date >= timezone.localdate() - BOARD_SOON:
                initial["start_date"] = latest.end_date + timedelta(days=1)
                initial["role"] = latest.role
        return initial

    def get_success_url(self):
        return reverse("cities:board") + f"?on={self.object.start_date:%Y-%m-%d}"


class BoardSeatUpdateView(BoardSeatSaveMixin, RecordUpdateView):
    model = BoardSeat
    form_class = BoardSeatForm
    success_message = "Board seat saved: %(object)s."


class BoardSeatDeleteView(RecordDeleteView):
    model = BoardSeat
    success_url = reverse_lazy("cities:board")
