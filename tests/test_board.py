"""Mayors, mayoral terms and the Leadership Board."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cities.models import BoardSeat, Mayor, MayoralTerm

from .factories import (
    BoardSeatFactory,
    CityFactory,
    ContactFactory,
    MayoralTermFactory,
    MayorFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date


# --- One current mayor per city ---------------------------------------------------------------


def test_the_database_refuses_a_second_current_mayor():
    term = MayoralTermFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        MayoralTerm.objects.create(mayor=MayorFactory(), city=term.city, start_date=D(2024, 1, 1))


def test_past_mayors_are_kept_next_to_the_current_one():
    term = MayoralTermFactory(start_date=D(2024, 1, 1))
    MayoralTermFactory(city=term.city, start_date=D(2016, 1, 1), end_date=D(2023, 12, 31))
    assert term.city.mayoral_terms.count() == 2


def _start_data(city, **overrides):
    data = {
        "city": city.pk,
        "mayor": "",
        "new_mayor_name": "Nadia Haddad",
        "start_date": "2026-01-10",
        "end_date": "",
    }
    data.update(overrides)
    return data


def test_a_second_current_mayor_gets_a_form_message_and_nothing_changes(staff_client):
    sitting = MayoralTermFactory(start_date=D(2022, 1, 1))
    response = staff_client.post(reverse("cities:term_create"), _start_data(sitting.city))
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        f"{sitting.city} already has a current mayor: {sitting.mayor}. End that term first." in html
    )
    assert html.count("already has a current mayor") == 1
    assert list(MayoralTerm.objects.all()) == [sitting]
    assert not Mayor.objects.filter(full_name="Nadia Haddad").exists()  # rolled back


def test_a_new_mayor_takes_office_and_the_sitting_term_ends_the_day_before(staff_client):
    sitting = MayoralTermFactory(start_date=D(2022, 1, 1))
    data = _start_data(sitting.city, end_current_term="on")
    response = staff_client.post(reverse("cities:term_create"), data)
    assert response["Location"] == sitting.city.get_absolute_url()
    sitting.refresh_from_db()
    assert sitting.end_date == D(2026, 1, 9)
    current = MayoralTerm.objects.current().get(city=sitting.city)
    assert current.mayor.full_name == "Nadia Haddad" and current.start_date == D(2026, 1, 10)


def test_a_new_term_cannot_start_before_the_sitting_one(staff_client):
    sitting = MayoralTermFactory(start_date=D(2026, 3, 1))
    data = _start_data(sitting.city, end_current_term="on")
    response = staff_client.post(reverse("cities:term_create"), data)
    assert "the new term must start after that" in response.content.decode()
    sitting.refresh_from_db()
    assert sitting.end_date is None
    assert MayoralTerm.objects.count() == 1


def test_term_start_needs_a_mayor(staff_client):
    city = CityFactory()
    response = staff_client.post(
        reverse("cities:term_create"), _start_data(city, new_mayor_name="")
    )
    assert "Pick a mayor or type the name of a new one." in response.content.decode()


def test_an_existing_mayor_takes_office_from_the_mayor_page(staff_client):
    mayor = MayorFactory()
    city = CityFactory()
    form = staff_client.get(reverse("cities:term_create"), {"mayor": mayor.pk, "city": city.pk})
    assert form.context["form"].initial["mayor"] == mayor
    data = _start_data(city, mayor=mayor.pk, new_mayor_name="")
    staff_client.post(reverse("cities:term_create"), data)
    assert MayoralTerm.objects.current().get(city=city).mayor == mayor


def test_ending_a_term_from_the_city_page(staff_client):
    term = MayoralTermFactory(start_date=D(2020, 1, 1))
    html = staff_client.get(term.city.get_absolute_url()).content.decode()
    end_url = reverse("cities:term_end", args=[term.pk])
    assert end_url in html
    response = staff_client.post(end_url, {"end_date": "2025-06-30"})
    assert response["Location"] == term.city.get_absolute_url()
    term.refresh_from_db()
    assert term.end_date == D(2025, 6, 30)
    assert (
        "No current mayor recorded."
        in staff_client.get(term.city.get_absolute_url()).content.decode()
    )


def test_a_term_cannot_end_before_it_starts(staff_client):
    term = MayoralTermFactory(start_date=D(2020, 1, 1))
    response = staff_client.post(
        reverse("cities:term_end", args=[term.pk]), {"end_date": "2019-01-01"}
    )
    assert "The term cannot end before it starts." in response.content.decode()
    term.refresh_from_db()
    assert term.end_date is None


# --- Board seats ------------------------------------------------------------------------------


def test_overlapping_seats_for_the_same_mayor_are_refused():
    seat = BoardSeatFactory(start_date=D(2025, 1, 1), end_date=D(2027, 1, 1))
    overlapping = BoardSeat(mayor=seat.mayor, start_date=D(2026, 6, 1), end_date=D(2028, 6, 1))
    with pytest.raises(ValidationError, match="already holds a seat in that period"):
        overlapping.full_clean()
    # Another mayor may hold a seat in the same period.
    BoardSeat(mayor=MayorFactory(), start_date=D(2026, 6, 1), end_date=D(2028, 6, 1)).full_clean()


def _seat_data(mayor, **overrides):
    data = {
        "mayor": mayor.pk,
        "role": "member",
        "start_date": "2027-01-02",
        "end_date": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_the_seat_form_refuses_an_overlap_with_a_message(staff_client):
    seat = BoardSeatFactory(start_date=D(2025, 1, 1), end_date=D(2027, 1, 1))
    response = staff_client.post(
        reverse("cities:seat_create"), _seat_data(seat.mayor, start_date="2026-12-01")
    )
    assert "already holds a seat in that period" in response.content.decode()
    assert BoardSeat.objects.count() == 1


def test_a_new_seat_ends_two_years_after_it_starts_by_default(staff_client):
    seat = BoardSeatFactory(start_date=D(2025, 1, 1), end_date=D(2027, 1, 1))
    response = staff_client.post(reverse("cities:seat_create"), _seat_data(seat.mayor))
    assert response.status_code == 302
    renewal = BoardSeat.objects.exclude(pk=seat.pk).get()
    assert (renewal.start_date, renewal.end_date) == (D(2027, 1, 2), D(2029, 1, 2))


def test_renewing_from_the_board_starts_after_the_current_seat(staff_client):
    today = timezone.localdate()
    seat = BoardSeatFactory(
        start_date=today - datetime.timedelta(days=600),
        end_date=today + datetime.timedelta(days=30),
    )
    form = staff_client.get(reverse("cities:seat_create"), {"mayor": seat.mayor.pk})
    assert form.context["form"].initial["start_date"] == seat.end_date + datetime.timedelta(days=1)


def test_editing_a_seat_keeps_its_own_dates_valid(staff_client):
    seat = BoardSeatFactory(start_date=D(2025, 1, 1), end_date=D(2027, 1, 1))
    data = _seat_data(seat.mayor, role="co_chair", start_date="2025-01-01", end_date="2027-01-01")
    response = staff_client.post(reverse("cities:seat_update", args=[seat.pk]), data)
    assert response.status_code == 302
    seat.refresh_from_db()
    assert seat.role == BoardSeat.Role.CO_CHAIR


# --- The board on a date -----------------------------------------------------------------------


def _board_names(response):
    return [seat.mayor.full_name for seat in response.context["seats"]]


@pytest.fixture
def board():
    day = D(2026, 6, 1)
    city = CityFactory(name="Freetown")
    aki = MayorFactory(full_name="Yvonne Aki-Sawyerr")
    MayoralTermFactory(mayor=aki, city=city, start_date=D(2018, 5, 4))
    return {
        "day": day,
        "member_a": BoardSeatFactory(
            mayor=MayorFactory(full_name="Anna Member"),
            start_date=D(2025, 1, 1),
            end_date=D(2027, 1, 1),
        ),
        "member_soon": BoardSeatFactory(
            mayor=MayorFactory(full_name="Bruno Soon"),
            start_date=D(2024, 7, 1),
            end_date=D(2026, 7, 15),
        ),
        "co_chair": BoardSeatFactory(
            mayor=aki,
            role=BoardSeat.Role.CO_CHAIR,
            start_date=D(2025, 3, 1),
            end_date=D(2027, 3, 1),
        ),
        "gone": BoardSeatFactory(
            mayor=MayorFactory(full_name="Carl Gone"),
            start_date=D(2023, 1, 1),
            end_date=D(2025, 1, 1),
        ),
    }


def test_board_on_a_date_lists_co_chairs_first_and_highlights_seats_ending_soon(
    staff_client, board
):
    response = staff_client.get(reverse("cities:board"), {"on": "2026-06-01"})
    assert _board_names(response) == ["Yvonne Aki-Sawyerr", "Anna Member", "Bruno Soon"]
    ending = [seat.mayor.full_name for seat in response.context["seats"] if seat.ends_soon]
    assert ending == ["Bruno Soon"]
    html = response.content.decode()
    assert html.count('class="table-warning ending-soon"') == 1
    assert "ends in 44 days" in html
    assert "Freetown" in html  # the co-chair's city


def test_board_on_an_earlier_date_shows_who_sat_then(staff_client, board):
    response = staff_client.get(reverse("cities:board"), {"on": "2024-08-01"})
    assert _board_names(response) == ["Bruno Soon", "Carl Gone"]


def test_board_defaults_to_today_and_explains_a_bad_date(staff_client):
    BoardSeatFactory(mayor=MayorFactory(full_name="Today Member"))
    response = staff_client.get(reverse("cities:board"), {"on": "31/02/2026"})
    assert response.context["day"] == timezone.localdate()
    assert _board_names(response) == ["Today Member"]
    assert "is not a date" in response.content.decode()


def test_board_query_count_is_bounded(staff_client, django_assert_max_num_queries):
    for _ in range(20):
        term = MayoralTermFactory()
        BoardSeatFactory(mayor=term.mayor)
    with django_assert_max_num_queries(8):
        response = staff_client.get(reverse("cities:board"))
    assert len(response.context["seats"]) == 20


# --- Mayor list and pages ---------------------------------------------------------------------


def _mayor_names(response):
    return [mayor.full_name for mayor in response.context["object_list"]]


def test_mayor_list_filters_current_and_on_board(staff_client):
    in_office = MayoralTermFactory(mayor=MayorFactory(full_name="Ana In Office")).mayor
    MayoralTermFactory(
        mayor=MayorFactory(full_name="Ben Former"), end_date=D(2022, 1, 1), start_date=D(2018, 1, 1)
    )
    BoardSeatFactory(mayor=in_office)
    url = reverse("cities:mayor_list")
    assert _mayor_names(staff_client.get(url, {"current": "true"})) == ["Ana In Office"]
    assert _mayor_names(staff_client.get(url, {"current": "false"})) == ["Ben Former"]
    assert _mayor_names(staff_client.get(url, {"on_board": "true"})) == ["Ana In Office"]
    assert _mayor_names(staff_client.get(url, {"q": "ben"})) == ["Ben Former"]


def test_mayor_list_filters_by_city_and_region(staff_client):
    term = MayoralTermFactory(mayor=MayorFactory(full_name="Giuseppe Sala"))
    assert term.city.country.region == "latin_america"  # Brazil, the factory default
    url = reverse("cities:mayor_list")
    assert _mayor_names(staff_client.get(url, {"city": term.city.pk})) == ["Giuseppe Sala"]
    assert _mayor_names(staff_client.get(url, {"region": "latin_america"})) == ["Giuseppe Sala"]
    assert _mayor_names(staff_client.get(url, {"region": "europe"})) == []


@pytest.mark.parametrize("rows", [5, 50])
def test_mayor_list_query_count_does_not_grow_with_rows(
    staff_client, django_assert_max_num_queries, rows
):
    for _ in range(rows):
        BoardSeatFactory(mayor=MayoralTermFactory().mayor)
    with django_assert_max_num_queries(8):
        response = staff_client.get(reverse("cities:mayor_list"), {"per_page": 50})
    assert len(response.context["object_list"]) == rows


def test_mayor_page_shows_terms_seats_and_history(staff_client, staff_user):
    term = MayoralTermFactory(mayor=MayorFactory(full_name="Karen Bass"))
    BoardSeatFactory(mayor=term.mayor, role=BoardSeat.Role.CO_CHAIR)
    staff_client.post(
        reverse("cities:mayor_update", args=[term.mayor.pk]),
        {"full_name": "Karen Ruth Bass", "email": "", "notes": ""},
    )
    html = staff_client.get(term.mayor.get_absolute_url()).content.decode()
    assert "Karen Ruth Bass" in html and "Co-chair" in html and "in office" in html
    assert '<del class="text-body-secondary">Karen Bass</del>' in html


def test_staff_cannot_delete_a_mayor_or_a_seat(staff_client):
    seat = BoardSeatFactory()
    assert (
        staff_client.post(reverse("cities:mayor_delete", args=[seat.mayor.pk])).status_code == 403
    )
    assert staff_client.post(reverse("cities:seat_delete", args=[seat.pk])).status_code == 403
    assert BoardSeat.objects.filter(pk=seat.pk).exists()


@pytest.mark.parametrize("name", ["cities:city_list", "cities:contact_list", "cities:mayor_list"])
def test_every_filter_on_the_lists_has_a_readable_label(staff_client, name):
    html = staff_client.get(reverse(name)).content.decode()
    assert "[invalid name]" not in html and "Unknown" not in html


def test_manager_deletes_a_mistaken_term_and_seat_from_the_mayor_page(manager_client):
    term = MayoralTermFactory()
    seat = BoardSeatFactory(mayor=term.mayor)
    html = manager_client.get(term.mayor.get_absolute_url()).content.decode()
    assert reverse("cities:term_delete", args=[term.pk]) in html
    assert reverse("cities:seat_delete", args=[seat.pk]) in html
    response = manager_client.post(reverse("cities:term_delete", args=[term.pk]))
    assert response["Location"] == term.city.get_absolute_url()
    manager_client.post(reverse("cities:seat_delete", args=[seat.pk]))
    assert not MayoralTerm.objects.exists() and not BoardSeat.objects.exists()
    assert Mayor.objects.filter(pk=term.mayor.pk).exists()


def test_a_seat_ending_before_it_starts_gets_one_clear_message(staff_client):
    mayor = MayorFactory()
    data = _seat_data(mayor, start_date="2026-01-01", end_date="2025-01-01")
    html = staff_client.post(reverse("cities:seat_create"), data).content.decode()
    assert html.count("The seat must end after it starts.") == 1
    assert "is violated" not in html
    assert not BoardSeat.objects.exists()


def test_a_term_edit_ending_before_it_starts_gets_one_clear_message(staff_client):
    term = MayoralTermFactory(start_date=D(2020, 1, 1))
    data = {"start_date": "2020-01-01", "end_date": "2019-12-31"}
    html = staff_client.post(reverse("cities:term_update", args=[term.pk]), data).content.decode()
    assert html.count("The term cannot end before it starts.") == 1
    assert "is violated" not in html


def _city_page_queries(client, terms, contacts):
    city = CityFactory()
    for n in range(terms):
        start = D(2000 + 2 * n, 1, 1)
        MayoralTermFactory(city=city, start_date=start, end_date=start.replace(year=start.year + 1))
    BoardSeatFactory(mayor=MayoralTermFactory(city=city, start_date=D(2030, 1, 1)).mayor)
    for _ in range(contacts):
        ContactFactory(city=city)
    client.get(city.get_absolute_url())  # warm caches (permissions, session)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(city.get_absolute_url())
    assert response.context["contacts_count"] == contacts
    return len(queries)


def test_city_page_query_count_does_not_grow_with_contacts_and_terms(staff_client):
    assert _city_page_queries(staff_client, 1, 13) == _city_page_queries(staff_client, 10, 40)


def test_the_seat_service_refuses_an_overlap_and_saves_nothing():
    from cities.services import board_seat_save

    seat = BoardSeatFactory(start_date=D(2025, 1, 1), end_date=D(2027, 1, 1))
    twin = BoardSeat(mayor=seat.mayor, start_date=D(2026, 1, 1), end_date=D(2028, 1, 1))
    with pytest.raises(ValidationError, match="already holds a seat in that period"):
        board_seat_save(seat=twin)
    assert BoardSeat.objects.count() == 1
    renewal = BoardSeat(mayor=seat.mayor, start_date=D(2027, 1, 2), end_date=D(2029, 1, 2))
    assert board_seat_save(seat=renewal).pk is not None
