import pytest
from django.urls import reverse

from .factories import (
    CityFactory,
    ContactFactory,
    CountryFactory,
    MayoralTermFactory,
    MayorFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def records():
    sao = CityFactory(name="São Paulo", country=CountryFactory(code="BR"), aliases="Sampa")
    zurich = CityFactory(name="Zürich", country=CountryFactory(code="CH"))
    MayoralTermFactory(city=sao, mayor=MayorFactory(full_name="Ricardo Nunes"))
    ContactFactory(first_name="Paula", last_name="Sá", city=sao, email="paula@sampa.example.org")
    ContactFactory(
        first_name="Lena", last_name="Müller", city=zurich, email="lena@zuerich.example.org"
    )
    return {"sao": sao, "zurich": zurich}


def _section(response, kind):
    return [
        str(item)
        for section in response.context["results"]
        if section["kind"] == kind
        for item in section["items"]
    ]


def test_search_finds_cities_without_accents(staff_client, records):
    response = staff_client.get(reverse("crm:search"), {"q": "sao paulo"})
    assert _section(response, "cities") == ["São Paulo"]
    assert _section(response, "contacts") == []
    zurich = staff_client.get(reverse("crm:search"), {"q": "ZURICH"})
    assert _section(zurich, "cities") == ["Zürich"]
    assert records["zurich"].get_absolute_url() in zurich.content.decode()


def test_search_finds_a_city_by_alias_and_contacts_by_email(staff_client, records):
    response = staff_client.get(reverse("crm:search"), {"q": "sampa"})
    assert _section(response, "cities") == ["São Paulo"]
    assert _section(response, "contacts") == ["Paula Sá"]


def test_search_finds_contacts_and_mayors_by_name(staff_client, records):
    assert _section(staff_client.get(reverse("crm:search"), {"q": "muller"}), "contacts") == [
        "Lena Müller"
    ]
    response = staff_client.get(reverse("crm:search"), {"q": "nunes"})
    assert _section(response, "mayors") == ["Ricardo Nunes"]
    assert "mayor of São Paulo" in response.content.decode()


def test_search_without_matches_says_so(staff_client, records):
    response = staff_client.get(reverse("crm:search"), {"q": "atlantis"})
    assert response.context["total"] == 0
    assert "Nothing matches" in response.content.decode()


def test_search_links_to_the_full_list_when_there_are_more(staff_client):
    for n in range(12):
        CityFactory(name=f"Santa {n}")
    html = staff_client.get(reverse("crm:search"), {"q": "santa"}).content.decode()
    assert "See all 12" in html
    assert reverse("cities:city_list") + "?q=santa" in html


def test_search_shows_only_what_the_user_may_see(client, records):
    client.force_login(UserFactory())  # no role
    response = client.get(reverse("crm:search"), {"q": "sao"})
    assert response.status_code == 200
    assert response.context["results"] == []


def test_search_query_count_is_bounded(staff_client, django_assert_max_num_queries):
    for n in range(30):
        term = MayoralTermFactory(
            city=CityFactory(name=f"Sanaa {n}"), mayor=MayorFactory(full_name=f"Mayor Sanaa {n}")
        )
        ContactFactory(first_name="Sanaa", last_name=str(n), city=term.city)
    with django_assert_max_num_queries(12):
        staff_client.get(reverse("crm:search"), {"q": "sanaa"})


def test_every_page_has_the_search_box(staff_client):
    html = staff_client.get(reverse("cities:city_list")).content.decode()
    assert f'action="{reverse("crm:search")}"' in html
