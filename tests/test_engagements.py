import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cities import demo as cities_demo
from cities.models import Country
from crm.core.roles import MANAGER, PROGRAM_STAFF
from crm.demo import team as crm_demo
from engagements import demo
from engagements.models import Engagement, Event, PolicyOutcome, TARequest
from engagements.selectors import my_work

from .conftest import user_with_role
from .factories import (
    CityFactory,
    CityNetworkFactory,
    ContactFactory,
    CountryFactory,
    EngagementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 11)  # a Wednesday


@pytest.fixture(autouse=True)
def _fixed_today(time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 11, 10, 0, tzinfo=datetime.UTC), tick=False)


def days(n):
    return TODAY + datetime.timedelta(days=n)


def listed(response):
    return {obj.pk for obj in response.context["object_list"]}


# --- Logging an engagement ----------------------------------------------------------------------


def test_log_form_defaults_to_today_and_me(staff_client, staff_user):
    response = staff_client.get(reverse("engagements:engagement_create"))
    form = response.context["form"]
    assert form["date"].value() == TODAY
    assert str(form["owner"].value()) == str(staff_user.pk)
    html = response.content.decode()
    assert 'value="2026-03-11"' in html
    # Cities and contacts are searchable pickers: no option list is shipped with the page.
    assert 'data-picker-url="/cities/pick/cities/"' in html
    assert 'data-picker-url="/cities/pick/contacts/"' in html


def test_pickers_ship_no_options_even_with_many_cities(staff_client):
    CityFactory.create_batch(30)
    html = staff_client.get(reverse("engagements:engagement_create")).content.decode()
    assert "<option" not in html.split('name="cities"')[1].split("</select>")[0]


def test_log_form_started_from_a_city_page_has_the_city_filled_in(staff_client):
    city = CityFactory(name="Bogotá")
    CityFactory(name="Medellín")
    response = staff_client.get(reverse("engagements:engagement_create"), {"city": city.pk})
    assert response.context["form"]["cities"].value() == [city.pk]
    select = response.content.decode().split('name="cities"')[1].split("</select>")[0]
    assert f'<option value="{city.pk}" selected>Bogotá</option>' in select
    assert "Medellín" not in select


def test_a_bad_city_parameter_is_ignored(staff_client):
    for value in ("abc", "999999"):
        response = staff_client.get(reverse("engagements:engagement_create"), {"city": value})
        assert response.status_code == 200
        assert not response.context["form"]["cities"].value()


def test_logging_an_engagement_from_a_city_page_returns_there(staff_client, staff_user):
    city = CityFactory()
    contact = ContactFactory(city=city)
    url = reverse("engagements:engagement_create") + f"?city={city.pk}&next=/cities/{city.pk}/"
    response = staff_client.post(
        url,
        {
            "date": "2026-03-10",
            "kind": "call",
            "owner": staff_user.pk,
            "cities": [city.pk],
            "contacts": [contact.pk],
            "summary": "Call on the inclusion office",
            "follow_up_date": "2026-03-13",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/cities/{city.pk}/"
    engagement = Engagement.objects.get()
    assert engagement.owner == staff_user
    assert list(engagement.cities.all()) == [city]
    assert list(engagement.contacts.all()) == [contact]
    assert engagement.follow_up_date == days(2)


def test_logging_from_the_city_page_button_returns_to_the_city(staff_client, staff_user):
    # The city page's button passes only ?city=; saving goes back to that city.
    city = CityFactory()
    response = staff_client.post(
        reverse("engagements:engagement_create") + f"?city={city.pk}",
        {
            "date": "2026-03-10",
            "kind": "meeting",
            "owner": staff_user.pk,
            "cities": [city.pk],
            "summary": "Met the focal point",
        },
    )
    assert response["Location"] == city.get_absolute_url()


def test_an_offsite_next_is_not_followed(staff_client, staff_user):
    city = CityFactory()
    response = staff_client.post(
        reverse("engagements:engagement_create") + "?next=https://evil.example/",
        {
            "date": "2026-03-10",
            "kind": "call",
            "owner": staff_user.pk,
            "cities": [city.pk],
            "summary": "x",
        },
    )
    assert response["Location"] == Engagement.objects.get().get_absolute_url()


def test_an_engagement_needs_a_city_and_a_summary(staff_client, staff_user):
    response = staff_client.post(
        reverse("engagements:engagement_create"),
        {"date": "2026-03-10", "kind": "call", "owner": staff_user.pk},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"cities", "summary"}
    assert not Engagement.objects.exists()


def test_a_follow_up_before_the_engagement_is_refused(staff_client, staff_user):
    response = staff_client.post(
        reverse("engagements:engagement_create"),
        {
            "date": "2026-03-10",
            "kind": "call",
            "owner": staff_user.pk,
            "cities": [CityFactory().pk],
            "summary": "x",
            "follow_up_date": "2026-03-01",
        },
    )
    assert "cannot be due before" in response.content.decode()
    assert not Engagement.objects.exists()


def test_detail_page_shows_the_engagement_and_its_history(staff_client):
    engagement = EngagementFactory(summary="Met the deputy mayor", outcome="Agreed a workshop")
    response = staff_client.get(engagement.get_absolute_url())
    html = response.content.decode()
    assert "Met the deputy mayor" in html and "Agreed a workshop" in html
    assert "created" in html


def test_editing_keeps_the_history_of_what_changed(staff_client, staff_user):
    city = CityFactory()
    engagement = EngagementFactory(summary="First summary", cities=[city], owner=staff_user)
    response = staff_client.post(
        reverse("engagements:engagement_update", args=[engagement.pk]),
        {
            "date": engagement.date.isoformat(),
            "kind": "meeting",
            "owner": staff_user.pk,
            "cities": [city.pk],
            "summary": "Corrected summary",
        },
    )
    assert response.status_code == 302
    latest = engagement.history.first()
    assert latest.summary == "Corrected summary"
    assert latest.history_user == staff_user
    assert engagement.history.filter(summary="First summary").exists()
    html = staff_client.get(engagement.get_absolute_url()).content.decode()
    assert "First summary" in html and "Corrected summary" in html


def test_only_managers_delete_engagements(client):
    engagement = EngagementFactory()
    url = reverse("engagements:engagement_delete", args=[engagement.pk])
    client.force_login(user_with_role(PROGRAM_STAFF))
    assert client.post(url).status_code == 403
    assert Engagement.objects.filter(pk=engagement.pk).exists()
    client.force_login(user_with_role(MANAGER))
    assert client.post(url).status_code == 302
    assert not Engagement.objects.filter(pk=engagement.pk).exists()
    # The deleted record stays in history.
    assert Engagement.history.filter(id=engagement.pk, history_type="-").exists()


def test_a_user_without_a_role_cannot_log_engagements(client):
    client.force_login(UserFactory())
    assert client.get(reverse("engagements:engagement_create")).status_code == 403
    assert client.get(reverse("engagements:engagement_list")).status_code == 403


def test_follow_up_done_in_one_click(staff_client, staff_user):
    engagement = EngagementFactory(owner=staff_user, follow_up_date=days(-2))
    response = staff_client.post(
        reverse("engagements:engagement_follow_up_done", args=[engagement.pk]),
        {"next": reverse("engagements:my_work")},
    )
    assert response["Location"] == reverse("engagements:my_work")
    engagement.refresh_from_db()
    assert engagement.follow_up_done
    assert engagement.history.first().history_user == staff_user


def test_follow_up_done_refuses_get(staff_client):
    engagement = EngagementFactory(follow_up_date=days(1))
    url = reverse("engagements:engagement_follow_up_done", args=[engagement.pk])
    assert staff_client.get(url).status_code == 405
    engagement.refresh_from_db()
    assert not engagement.follow_up_done


# --- The list and its filters -------------------------------------------------------------------


def test_filter_by_follow_up_state(staff_client):
    overdue = EngagementFactory(date=days(-10), follow_up_date=days(-1))
    due_today = EngagementFactory(date=days(-10), follow_up_date=TODAY)
    due_in_6 = EngagementFactory(date=days(-10), follow_up_date=days(6))
    later = EngagementFactory(date=days(-10), follow_up_date=days(7))
    done = EngagementFactory(date=days(-10), follow_up_date=days(-3), follow_up_done=True)
    EngagementFactory(date=days(-10))  # no follow-up at all
    url = reverse("engagements:engagement_list")

    def ids(state):
        return listed(staff_client.get(url, {"follow_up": state}))

    assert ids("overdue") == {overdue.pk}
    assert ids("due_week") == {due_today.pk, due_in_6.pk}
    assert ids("open") == {overdue.pk, due_today.pk, due_in_6.pk, later.pk}
    assert ids("done") == {done.pk}


def test_filter_by_kind_date_owner_and_text(staff_client):
    amina = UserFactory(username="amina")
    call = EngagementFactory(kind="call", date=days(-40), owner=amina, summary="Budget call")
    visit = EngagementFactory(kind="site_visit", date=days(-5), outcome="Saw the new shelter")
    EngagementFactory(kind="email", date=days(-400))
    url = reverse("engagements:engagement_list")
    assert listed(staff_client.get(url, {"kind": ["call", "site_visit"]})) == {call.pk, visit.pk}
    assert listed(
        staff_client.get(url, {"date_after": days(-60).isoformat(), "date_before": TODAY})
    ) == {call.pk, visit.pk}
    assert listed(staff_client.get(url, {"date_after": days(-10).isoformat()})) == {visit.pk}
    assert listed(staff_client.get(url, {"owner": amina.pk})) == {call.pk}
    assert listed(staff_client.get(url, {"q": "budget"})) == {call.pk}
    assert listed(staff_client.get(url, {"q": "SHELTER"})) == {visit.pk}


def test_text_search_matches_city_names_without_accents(staff_client):
    sao = CityFactory(name="São Paulo")
    engagement = EngagementFactory(cities=[sao])
    EngagementFactory()
    response = staff_client.get(reverse("engagements:engagement_list"), {"q": "sao paulo"})
    assert listed(response) == {engagement.pk}


def test_filter_by_city_region_and_network_lists_each_engagement_once(staff_client):
    europe = CountryFactory(code="DE", name="Germany", region=Country.Region.EUROPE)
    africa = CountryFactory(code="SL", name="Sierra Leone", region=Country.Region.AFRICA)
    berlin = CityFactory(name="Berlin", country=europe)
    hamburg = CityFactory(name="Hamburg", country=europe)
    freetown = CityFactory(name="Freetown", country=africa)
    network = CityNetworkFactory(name="Mayors Mechanism")
    berlin.networks.add(network)
    hamburg.networks.add(network)
    both = EngagementFactory(cities=[berlin, hamburg])
    african = EngagementFactory(cities=[freetown])
    url = reverse("engagements:engagement_list")
    response = staff_client.get(url, {"region": "europe"})
    assert [e.pk for e in response.context["object_list"]] == [both.pk]
    assert response.context["paginator"].count == 1
    assert listed(staff_client.get(url, {"region": "africa"})) == {african.pk}
    assert listed(staff_client.get(url, {"network": network.pk})) == {both.pk}
    assert listed(staff_client.get(url, {"city": freetown.pk})) == {african.pk}
    assert listed(staff_client.get(url, {"city": hamburg.pk})) == {both.pk}


def test_list_is_newest_first_and_sortable(staff_client):
    old = EngagementFactory(date=days(-30))
    new = EngagementFactory(date=days(-1))
    url = reverse("engagements:engagement_list")
    assert [e.pk for e in staff_client.get(url).context["object_list"]] == [new.pk, old.pk]
    sorted_up = staff_client.get(url, {"o": "date"}).context["object_list"]
    assert [e.pk for e in sorted_up] == [old.pk, new.pk]


def test_list_is_paginated_and_keeps_filters(staff_client):
    owner = UserFactory()
    for _ in range(30):
        EngagementFactory(owner=owner, kind="call")
    response = staff_client.get(
        reverse("engagements:engagement_list"), {"kind": "call", "owner": owner.pk}
    )
    assert len(response.context["object_list"]) == 25
    next_links = re.findall(r'href="([^"]*page=2[^"]*)"', response.content.decode())
    assert next_links and all("kind=call" in link for link in next_links)


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured), response


@pytest.mark.parametrize("rows", [5, 50])
def test_engagement_list_queries_do_not_grow_with_rows(
    staff_client, django_assert_max_num_queries, rows
):
    owners = UserFactory.create_batch(3)
    for i in range(rows):
        EngagementFactory(
            owner=owners[i % 3],
            cities=CityFactory.create_batch(2),
            follow_up_date=days(i % 5),
        )
    url = reverse("engagements:engagement_list")
    with django_assert_max_num_queries(14):
        response = staff_client.get(url, {"per_page": 50})
    assert len(response.context["object_list"]) == rows


def test_engagement_list_query_count_is_the_same_at_5_and_50_rows(staff_client):
    url = reverse("engagements:engagement_list")
    EngagementFactory.create_batch(5, cities=None)
    small, _ = _queries(staff_client, url, {"per_page": 50})
    for _ in range(45):
        EngagementFactory(cities=CityFactory.create_batch(2))
    large, response = _queries(staff_client, url, {"per_page": 50})
    assert len(response.context["object_list"]) == 50
    assert large == small


def test_engagement_detail_queries_do_not_grow_with_cities_and_contacts(staff_client):
    few = EngagementFactory(
        cities=CityFactory.create_batch(2), contacts=ContactFactory.create_batch(2)
    )
    many = EngagementFactory(
        cities=CityFactory.create_batch(20), contacts=ContactFactory.create_batch(20)
    )
    assert (
        _queries(staff_client, few.get_absolute_url())[0]
        == _queries(staff_client, many.get_absolute_url())[0]
    )


# --- Demo data ----------------------------------------------------------------------------------


def test_demo_covers_the_app_and_is_idempotent():
    out = io.StringIO()
    for module in (crm_demo, cities_demo, demo):
        module.seed(scale=0, stdout=out)
    counts = (Engagement.objects.count(), TARequest.objects.count(), Event.objects.count())
    demo.seed(scale=0, stdout=out)
    assert (Engagement.objects.count(), TARequest.objects.count(), Event.objects.count()) == counts
    assert counts[0] == 60
    assert set(TARequest.objects.values_list("status", flat=True)) == set(TARequest.Status.values)
    assert Event.objects.filter(name="International Migration Review Forum 2022").exists()
    assert PolicyOutcome.objects.filter(title__contains="Secretary-General").exists()
    work = my_work(UserFactory(username="amina"))
    assert work.overdue and work.due_week and work.ta_requests and work.participations
