import pytest
from django.urls import reverse

from cities.models import Country

from .factories import CityFactory, ContactFactory, CountryFactory, MayoralTermFactory, MayorFactory

pytestmark = pytest.mark.django_db


def _texts(response):
    return [row["text"] for row in response.json()["results"]]


def test_city_picker_matches_names_without_accents_and_aliases(staff_client):
    brazil = CountryFactory(code="BR", name="Brazil")
    swiss = CountryFactory(code="CH", name="Switzerland", region=Country.Region.EUROPE)
    CityFactory(name="São Paulo", country=brazil, aliases="SP\nSampa")
    CityFactory(name="Zürich", country=swiss)
    url = reverse("cities:city_picker")
    assert _texts(staff_client.get(url, {"q": "sao pau"})) == ["São Paulo, Brazil"]
    assert _texts(staff_client.get(url, {"q": "ZURICH"})) == ["Zürich, Switzerland"]
    assert _texts(staff_client.get(url, {"q": "sampa"})) == ["São Paulo, Brazil"]


def test_contact_picker_matches_name_or_email_and_shows_city(staff_client):
    city = CityFactory(name="Bogotá")
    contact = ContactFactory(
        first_name="José", last_name="Núñez", email="jn@bogota.example", city=city
    )
    ContactFactory(first_name="Other", last_name="Person", city=city)
    url = reverse("cities:contact_picker")
    by_name = staff_client.get(url, {"q": "jose nun"}).json()["results"]
    assert by_name == [{"value": contact.pk, "text": "José Núñez — Bogotá"}]
    assert _texts(staff_client.get(url, {"q": "JN@BOGOTA"})) == ["José Núñez — Bogotá"]


def test_mayor_picker_labels_the_current_city(staff_client):
    term = MayoralTermFactory(
        mayor=MayorFactory(full_name="Yvonne Aki-Sawyerr"), city=CityFactory(name="Freetown")
    )
    MayorFactory(full_name="Yves Former")
    url = reverse("cities:mayor_picker")
    assert _texts(staff_client.get(url, {"q": "yvonne"})) == [f"{term.mayor} — Freetown"]
    assert _texts(staff_client.get(url, {"q": "yv"})) == [
        "Yves Former",
        "Yvonne Aki-Sawyerr — Freetown",
    ]
