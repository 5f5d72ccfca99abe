import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from cities.models import Contact

from .factories import CityFactory, CityNetworkFactory, ContactFactory, CountryFactory

pytestmark = pytest.mark.django_db


def _contact_data(**overrides):
    data = {
        "first_name": "Ana",
        "last_name": "Peña",
        "title": "Migration advisor",
        "city": "",
        "organisation": "",
        "email": "ana.pena@quito.example.org",
        "phone": "",
        "languages": "es, EN",
        "is_focal_point": "on",
        "consent_to_outreach": "on",
        "notes": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_add_a_contact_from_the_city_page_prefills_the_city_and_returns_there(staff_client):
    city = CityFactory(name="Quito")
    form_page = staff_client.get(reverse("cities:contact_create"), {"city": city.pk})
    assert form_page.context["form"].initial["city"] == city
    assert f'<option value="{city.pk}" selected>Quito</option>' in form_page.content.decode()
    url = reverse("cities:contact_create") + f"?city={city.pk}"
    response = staff_client.post(url, _contact_data(city=city.pk))
    contact = Contact.objects.get()
    assert response["Location"] == city.get_absolute_url()
    assert contact.city == city and contact.is_focal_point
    assert contact.languages == "es, en"


def test_an_email_already_used_in_another_case_is_refused_with_a_clear_message(staff_client):
    ContactFactory(first_name="Ana", last_name="Peña", email="ana.pena@quito.example.org")
    response = staff_client.post(
        reverse("cities:contact_create"),
        _contact_data(email="Ana.Pena@Quito.example.org", city=CityFactory().pk),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "Ana Peña already uses this email address; open that contact instead of adding a second one."
    ]
    assert response.content.decode().count("already uses this email address") == 1
    assert Contact.objects.count() == 1


def test_the_database_refuses_a_duplicate_email_in_another_case():
    ContactFactory(email="focal@city.example.org")
    twin = ContactFactory.build(email="FOCAL@City.example.org", city=CityFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        # bulk_create skips save(), so the lower-casing there cannot help: the index must.
        Contact.objects.bulk_create([twin])


def test_many_contacts_may_have_no_email():
    ContactFactory(email="")
    ContactFactory(email="")
    assert Contact.objects.filter(email="").count() == 2


def test_editing_a_contact_keeps_its_own_email(staff_client):
    contact = ContactFactory(email="me@city.example.org")
    data = _contact_data(email="ME@city.example.org", city=contact.city_id, first_name="Renamed")
    response = staff_client.post(reverse("cities:contact_update", args=[contact.pk]), data)
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.first_name == "Renamed" and contact.email == "me@city.example.org"


def test_a_contact_needs_a_city_or_an_organisation(staff_client):
    response = staff_client.post(reverse("cities:contact_create"), _contact_data())
    assert "Give the contact&#x27;s city or their organisation." in response.content.decode()
    response = staff_client.post(
        reverse("cities:contact_create"), _contact_data(organisation="UNHCR")
    )
    assert response.status_code == 302
    assert Contact.objects.get().organisation == "UNHCR"


def test_unknown_language_codes_are_refused(staff_client):
    response = staff_client.post(
        reverse("cities:contact_create"),
        _contact_data(city=CityFactory().pk, languages="en, Spanish"),
    )
    assert "not understood: spanish" in response.content.decode()
    assert not Contact.objects.exists()


def test_unsubscribing_records_when_and_stops_outreach(staff_client):
    contact = ContactFactory(consent_to_outreach=True)
    data = _contact_data(city=contact.city_id, email=contact.email, unsubscribed="on")
    staff_client.post(reverse("cities:contact_update", args=[contact.pk]), data)
    contact.refresh_from_db()
    assert contact.unsubscribed_at is not None and not contact.can_receive_outreach
    page = staff_client.get(contact.get_absolute_url()).content.decode()
    assert "Unsubscribed" in page


# --- List and filters --------------------------------------------------------------------------


def _names(response):
    return sorted(contact.full_name for contact in response.context["object_list"])


@pytest.fixture
def contacts():
    network = CityNetworkFactory()
    bogota = CityFactory(name="Bogotá", country=CountryFactory(code="CO"))
    bogota.networks.add(network)
    athens = CityFactory(name="Athens", country=CountryFactory(code="GR"))
    return {
        "network": network,
        "bogota": bogota,
        "jose": ContactFactory(
            first_name="José",
            last_name="Núñez",
            city=bogota,
            is_focal_point=True,
            languages="es, en",
        ),
        "eleni": ContactFactory(
            first_name="Eleni",
            last_name="Georgiou",
            city=athens,
            languages="el",
            consent_to_outreach=False,
        ),
        "ngo": ContactFactory(
            first_name="Sam",
            last_name="Hope",
            city=None,
            organisation="Refugee Council",
            languages="en",
            email="",
        ),
    }


def test_contact_list_search_ignores_accents_and_matches_email(staff_client, contacts):
    url = reverse("cities:contact_list")
    assert _names(staff_client.get(url, {"q": "jose nunez"})) == ["José Núñez"]
    assert _names(staff_client.get(url, {"q": contacts["eleni"].email.upper()})) == [
        "Eleni Georgiou"
    ]
    assert _names(staff_client.get(url, {"q": "refugee council"})) == ["Sam Hope"]


def test_contact_list_filters(staff_client, contacts):
    url = reverse("cities:contact_list")
    assert _names(staff_client.get(url, {"city": contacts["bogota"].pk})) == ["José Núñez"]
    assert _names(staff_client.get(url, {"region": "europe"})) == ["Eleni Georgiou"]
    assert _names(staff_client.get(url, {"network": contacts["network"].pk})) == ["José Núñez"]
    assert _names(staff_client.get(url, {"organisation": "refugee"})) == ["Sam Hope"]
    assert _names(staff_client.get(url, {"focal_point": "true"})) == ["José Núñez"]
    assert _names(staff_client.get(url, {"focal_point": "false"})) == ["Eleni Georgiou", "Sam Hope"]
    # Eleni gave no consent and Sam has no email.
    assert _names(staff_client.get(url, {"can_receive": "true"})) == ["José Núñez"]
    assert _names(staff_client.get(url, {"can_receive": "false"})) == ["Eleni Georgiou", "Sam Hope"]
    assert _names(staff_client.get(url, {"language": "en"})) == ["José Núñez", "Sam Hope"]
    assert _names(staff_client.get(url, {"language": "e"})) == []


@pytest.mark.parametrize("rows", [5, 50])
def test_contact_list_query_count_does_not_grow_with_rows(
    staff_client, django_assert_max_num_queries, rows
):
    city = CityFactory()
    for _ in range(rows):
        ContactFactory(city=CityFactory(country=city.country))
    with django_assert_max_num_queries(10):
        response = staff_client.get(reverse("cities:contact_list"), {"per_page": 50})
    assert len(response.context["object_list"]) == rows


# --- Delete: managers only ---------------------------------------------------------------------


def test_staff_get_403_on_contact_delete(staff_client):
    contact = ContactFactory()
    assert staff_client.post(reverse("cities:contact_delete", args=[contact.pk])).status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_manager_deletes_a_contact(manager_client):
    contact = ContactFactory()
    response = manager_client.post(reverse("cities:contact_delete", args=[contact.pk]))
    assert response["Location"] == reverse("cities:contact_list")
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_history_of_a_contact_edit_is_on_its_page(staff_client, staff_user):
    contact = ContactFactory(title="Advisor")
    data = _contact_data(city=contact.city_id, email=contact.email, title="Deputy Mayor")
    staff_client.post(reverse("cities:contact_update", args=[contact.pk]), data)
    html = staff_client.get(contact.get_absolute_url()).content.decode()
    assert "Deputy Mayor" in html and '<del class="text-body-secondary">Advisor</del>' in html
    assert str(staff_user) in html


def test_contact_list_counts_sorts_and_pages_with_the_filters_kept(staff_client):
    city = CityFactory(name="Lima")
    for n in range(27):
        ContactFactory(city=city, first_name="Focal", last_name=f"{n:02}", is_focal_point=True)
    ContactFactory(city=city, first_name="Not", last_name="Focal")
    url = reverse("cities:contact_list")
    response = staff_client.get(url, {"focal_point": "true", "o": "-name"})
    html = response.content.decode()
    assert "27 results" in html
    assert response.context["object_list"][0].last_name == "26"
    assert "?focal_point=true&amp;o=-name&amp;page=2" in html
    second = staff_client.get(url, {"focal_point": "true", "o": "-name", "page": 2})
    assert [c.last_name for c in second.context["object_list"]] == ["01", "00"]
