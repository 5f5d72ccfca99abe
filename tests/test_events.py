import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cities.models import Country
from engagements.models import Event, Participation, Process

from .factories import (
    CityFactory,
    CityNetworkFactory,
    ContactFactory,
    CountryFactory,
    EventFactory,
    MayorFactory,
    ParticipationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 11)


@pytest.fixture(autouse=True)
def _fixed_today(time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 11, 10, 0, tzinfo=datetime.UTC), tick=False)


def days(n):
    return TODAY + datetime.timedelta(days=n)


def listed(response):
    return {obj.pk for obj in response.context["object_list"]}


def event_data(**overrides):
    data = {
        "name": "International Migration Review Forum",
        "process": "imrf",
        "start_date": "2026-05-17",
        "end_date": "2026-05-20",
        "registration_deadline": "2026-04-30",
        "place": "New York",
    }
    data.update(overrides)
    return data


# --- Events -------------------------------------------------------------------------------------


def test_creating_an_event(staff_client):
    response = staff_client.post(reverse("engagements:event_create"), event_data())
    event = Event.objects.get()
    assert response["Location"] == event.get_absolute_url()
    assert (event.process, event.place, event.registration_deadline) == (
        Process.IMRF,
        "New York",
        datetime.date(2026, 4, 30),
    )


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"end_date": "2026-05-01"}, "end_date"),
        ({"registration_deadline": "2026-05-18"}, "registration_deadline"),
    ],
)
def test_inconsistent_event_dates_are_refused(staff_client, overrides, field):
    response = staff_client.post(reverse("engagements:event_create"), event_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Event.objects.exists()


def test_the_same_event_cannot_be_entered_twice(staff_client):
    staff_client.post(reverse("engagements:event_create"), event_data())
    response = staff_client.post(reverse("engagements:event_create"), event_data())
    assert response.status_code == 200
    assert Event.objects.count() == 1


def test_event_page_shows_its_delegation(staff_client):
    event = EventFactory(name="Global Refugee Forum 2023")
    mayor = MayorFactory(full_name="Yvonne Aki-Sawyerr")
    ParticipationFactory(
        event=event,
        city=CityFactory(name="Freetown"),
        mayor=mayor,
        role=Participation.Role.SPEAKER,
        outcome="Announced a pledge on climate migration",
    )
    ParticipationFactory(event=event, city=CityFactory(name="Bogotá"))
    ParticipationFactory(city=CityFactory(name="Elsewhere"))
    html = staff_client.get(event.get_absolute_url()).content.decode()
    delegation = html.split('data-testid="delegation"')[1].split("</table>")[0]
    assert "Freetown" in delegation and "Bogotá" in delegation
    assert "Yvonne Aki-Sawyerr" in delegation and "Speaker" in delegation
    assert "Elsewhere" not in delegation
    add = reverse("engagements:participation_create") + f"?event={event.pk}"
    assert add in html


def test_event_list_filters(staff_client):
    imrf = EventFactory(
        name="IMRF 2022", process=Process.IMRF, start_date=datetime.date(2022, 5, 17)
    )
    cop = EventFactory(
        name="COP26", process=Process.COP, start_date=datetime.date(2021, 11, 1), place="Glasgow"
    )
    gfmd = EventFactory(name="GFMD Summit", process=Process.GFMD, start_date=days(30))
    ParticipationFactory(event=imrf)
    ParticipationFactory(event=imrf)
    url = reverse("engagements:event_list")
    assert listed(staff_client.get(url, {"process": ["imrf", "cop"]})) == {imrf.pk, cop.pk}
    assert listed(staff_client.get(url, {"q": "glasgow"})) == {cop.pk}
    assert listed(staff_client.get(url, {"start_date_after": "2022-01-01"})) == {imrf.pk, gfmd.pk}
    assert listed(staff_client.get(url, {"start_date_before": "2021-12-31"})) == {cop.pk}
    assert listed(staff_client.get(url, {"with_city_participation": "true"})) == {imrf.pk}
    assert listed(staff_client.get(url, {"with_city_participation": "false"})) == {
        cop.pk,
        gfmd.pk,
    }
    response = staff_client.get(url, {"with_city_participation": "true"})
    assert response.context["object_list"][0].city_count == 2


def test_event_picker_finds_events_by_name(staff_client):
    EventFactory(name="COP26", start_date=datetime.date(2021, 11, 1))
    EventFactory(name="GFMD Summit 2024")
    results = staff_client.get(reverse("engagements:event_picker"), {"q": "cop"}).json()
    assert [r["text"] for r in results["results"]] == ["COP26 (Nov 2021)"]


# --- Participations -----------------------------------------------------------------------------


def test_adding_a_city_from_the_event_page_returns_to_it(staff_client, staff_user):
    event = EventFactory()
    city = CityFactory()
    contact = ContactFactory(city=city)
    url = reverse("engagements:participation_create") + f"?event={event.pk}"
    form = staff_client.get(url).context["form"]
    assert str(form["event"].value()) == str(event.pk)
    assert str(form["owner"].value()) == str(staff_user.pk)
    response = staff_client.post(
        url,
        {
            "event": event.pk,
            "city": city.pk,
            "contact": contact.pk,
            "role": "side_event_host",
            "status": "confirmed",
            "owner": staff_user.pk,
        },
    )
    assert response["Location"] == event.get_absolute_url()
    participation = Participation.objects.get()
    assert (participation.city, participation.role) == (city, "side_event_host")


def test_adding_a_participation_from_the_city_page_returns_to_it(staff_client, staff_user):
    event = EventFactory()
    city = CityFactory()
    url = reverse("engagements:participation_create") + f"?city={city.pk}"
    assert str(staff_client.get(url).context["form"]["city"].value()) == str(city.pk)
    response = staff_client.post(
        url, {"event": event.pk, "city": city.pk, "role": "delegate", "status": "planned"}
    )
    assert response["Location"] == city.get_absolute_url()


def test_participation_list_filters(staff_client):
    europe = CountryFactory(code="FR", name="France", region=Country.Region.EUROPE)
    paris = CityFactory(name="Paris", country=europe)
    network = CityNetworkFactory()
    paris.networks.add(network)
    imrf = EventFactory(process=Process.IMRF, start_date=datetime.date(2022, 5, 17))
    grf = EventFactory(process=Process.GRF, start_date=datetime.date(2023, 12, 13))
    speaker = ParticipationFactory(event=imrf, city=paris, role="speaker", status="attended")
    delegate = ParticipationFactory(event=grf, role="delegate", status="planned")
    url = reverse("engagements:participation_list")
    assert listed(staff_client.get(url, {"event": imrf.pk})) == {speaker.pk}
    assert listed(staff_client.get(url, {"city": paris.pk})) == {speaker.pk}
    assert listed(staff_client.get(url, {"region": "europe"})) == {speaker.pk}
    assert listed(staff_client.get(url, {"network": network.pk})) == {speaker.pk}
    assert listed(staff_client.get(url, {"role": "delegate"})) == {delegate.pk}
    assert listed(staff_client.get(url, {"status": "attended"})) == {speaker.pk}
    assert listed(staff_client.get(url, {"process": "grf"})) == {delegate.pk}
    assert listed(staff_client.get(url, {"event_start_after": "2023-01-01"})) == {delegate.pk}
    assert listed(staff_client.get(url, {"event_start_before": "2022-12-31"})) == {speaker.pk}


# --- Query bounds ------------------------------------------------------------------------------


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured), response


def _add_events(n, offset):
    for i in range(n):
        event = EventFactory(name=f"Event {offset + i}", registration_deadline=days(i))
        ParticipationFactory(
            event=event, mayor=MayorFactory(), contact=ContactFactory(), owner=UserFactory()
        )


@pytest.mark.parametrize("name", ["engagements:event_list", "engagements:participation_list"])
def test_event_and_participation_lists_do_not_grow_with_rows(
    staff_client, django_assert_max_num_queries, name
):
    url = reverse(name)
    _add_events(5, 0)
    small, _ = _queries(staff_client, url, {"per_page": 50})
    _add_events(45, 100)
    with django_assert_max_num_queries(12):
        large, response = _queries(staff_client, url, {"per_page": 50})
    assert len(response.context["object_list"]) == 50
    assert large == small


def test_event_page_queries_do_not_grow_with_the_delegation(staff_client):
    small_event, big_event = EventFactory(), EventFactory()
    for event, size in ((small_event, 5), (big_event, 50)):
        for _ in range(size):
            ParticipationFactory(
                event=event, mayor=MayorFactory(), contact=ContactFactory(), owner=UserFactory()
            )
    assert (
        _queries(staff_client, small_event.get_absolute_url())[0]
        == _queries(staff_client, big_event.get_absolute_url())[0]
    )
