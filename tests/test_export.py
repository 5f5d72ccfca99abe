"""Exports: what a list shows (filters and search applied), streamed, as CSV and XLSX whose
header is the import template; formula-like cells neutralised; managers only."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cities.models import City, Contact
from crm.imports.engine import commit_file
from crm.imports.registry import ENTITIES, get_resource

from .factories import (
    BoardSeatFactory,
    CityFactory,
    ContactFactory,
    CountryFactory,
    EngagementFactory,
    EventFactory,
    MayoralTermFactory,
    ParticipationFactory,
    PledgeFactory,
    PledgeUpdateFactory,
    TARequestFactory,
)


def csv_rows(response):
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # so Excel opens the UTF-8 file with accents intact
    return list(csv.reader(io.StringIO(body[1:])))


def xlsx_rows(response):
    data = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def brazil(db):
    return CountryFactory(code="BR", name="Brazil")


def test_city_list_exports_what_it_shows_with_filters_and_search(manager_client, brazil):
    CityFactory(name="São Paulo", country=brazil, status=City.Status.PARTNER)
    CityFactory(name="Santos", country=brazil, status=City.Status.PARTNER)
    CityFactory(name="Salvador", country=brazil, status=City.Status.PROSPECT)

    response = manager_client.get(
        reverse("cities:city_list"), {"status": "partner", "q": "sao", "export": "csv"}
    )

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="cities-')
    rows = csv_rows(response)
    assert rows[0] == get_resource("cities").get_export_headers()
    assert [row[0] for row in rows[1:]] == ["São Paulo"]


def test_xlsx_export_has_the_same_rows(manager_client, brazil):
    for name in ("Belém", "Recife"):
        CityFactory(name=name, country=brazil)

    response = manager_client.get(reverse("cities:city_list"), {"export": "xlsx", "o": "-name"})

    rows = xlsx_rows(response)
    assert rows[0][:2] == ["Name", "Country"]
    assert [row[:2] for row in rows[1:]] == [["Recife", "BR"], ["Belém", "BR"]]


def test_export_is_for_managers_only(staff_client, brazil):
    CityFactory(country=brazil)
    response = staff_client.get(reverse("cities:city_list"), {"export": "csv"})
    assert response.status_code == 403
    page = staff_client.get(reverse("cities:city_list"))
    assert b"export=csv" not in page.content  # and the link is not offered
    assert reverse("crm:export_template", args=["cities", "xlsx"]).encode() in page.content


def test_list_header_offers_export_links_to_managers(manager_client, brazil):
    page = manager_client.get(reverse("cities:contact_list"), {"q": "ana"})
    assert b"q=ana&amp;export=csv" in page.content


@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_cells_are_neutralised_in_csv(manager_client, brazil, trigger):
    payload = f'{trigger}HYPERLINK("http://evil.example")'
    ContactFactory(first_name="Eve", notes=payload, city=None)

    rows = csv_rows(manager_client.get(reverse("cities:contact_list"), {"export": "csv"}))

    notes = rows[1][rows[0].index("Notes")]
    assert notes == "'" + payload
    assert not notes.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_cells_are_neutralised_in_xlsx(manager_client, brazil, trigger):
    payload = f"{trigger}1+2"
    ContactFactory(first_name="Eve", notes=payload, city=None)

    response = manager_client.get(reverse("cities:contact_list"), {"export": "xlsx"})
    data = b"".join(response.streaming_content)
    cell = load_workbook(io.BytesIO(data)).worksheets[0].cell(row=2, column=11)

    assert cell.data_type == "s"  # text, never a formula
    # XML turns a stored carriage return into a line feed when the file is read back.
    assert cell.value == ("'" + payload).replace("\r", "\n")


def test_neutralised_export_imports_back_unchanged(manager_client, brazil):
    ContactFactory(email="eve@example.org", phone="+41 22 000", notes="=1+1", city=None)
    body = b"".join(
        manager_client.get(reverse("cities:contact_list"), {"export": "csv"}).streaming_content
    )

    report = commit_file("contacts", io.BytesIO(body))

    assert report.counts == {"create": 0, "update": 0, "skip": 1, "error": 0}
    assert Contact.objects.get().phone == "+41 22 000"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_is_an_empty_file_with_the_import_header(staff_client, fmt):
    response = staff_client.get(reverse("crm:export_template", args=["pledges", fmt]))

    assert response.status_code == 200
    rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)
    assert rows == [get_resource("pledges").get_export_headers()]


def test_template_of_an_unknown_entity_is_404(staff_client):
    assert staff_client.get("/data/template/nothing.csv").status_code == 404


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_every_entity_exports_and_its_export_reimports_as_unchanged(manager_client, brazil, entity):
    city = CityFactory(name="São Paulo", country=brazil, aliases="SP")
    contact = ContactFactory(city=city, languages="pt, en")
    EngagementFactory(cities=[city], contacts=[contact], outcome="=risky")
    TARequestFactory(city=city, requested_by=contact)
    ParticipationFactory(city=city, contact=contact)
    MayoralTermFactory(city=city)
    BoardSeatFactory()
    PledgeUpdateFactory(pledge=PledgeFactory(city=city, event=EventFactory()))

    for fmt in ("csv", "xlsx"):
        response = manager_client.get(reverse("crm:export_entity", args=[entity, fmt]))
        assert response.status_code == 200
        data = b"".join(response.streaming_content)
        report = commit_file(entity, io.BytesIO(data))
        assert report.errors() == []
        assert report.counts["create"] == 0 and report.counts["update"] == 0, report.rows
        assert report.counts["skip"] >= 1


def test_mayor_list_exports_their_terms(manager_client, brazil):
    term = MayoralTermFactory(city=CityFactory(name="Recife", country=brazil))

    rows = csv_rows(manager_client.get(reverse("cities:mayor_list"), {"export": "csv"}))

    assert rows[0] == ["Mayor", "City", "Term start", "Term end"]
    assert rows[1] == [term.mayor.full_name, "Recife, BR", "2021-01-01", ""]


def test_csv_export_streams(manager_client, brazil):
    CityFactory(country=brazil)
    response = manager_client.get(reverse("cities:city_list"), {"export": "csv"})
    assert response.streaming


@pytest.mark.parametrize(
    ("url_name", "entity"),
    [
        ("cities:city_list", "cities"),
        ("cities:contact_list", "contacts"),
        ("cities:mayor_list", "mayors"),
        ("engagements:engagement_list", "engagements"),
        ("engagements:ta_list", "ta-requests"),
        ("engagements:event_list", "events"),
        ("engagements:participation_list", "participations"),
        ("pledges:pledge_list", "pledges"),
    ],
)
def test_every_list_page_exports_its_rows_in_both_formats(manager_client, brazil, url_name, entity):
    city = CityFactory(name="São Paulo", country=brazil)
    contact = ContactFactory(city=city)
    EngagementFactory(cities=[city], contacts=[contact])
    TARequestFactory(city=city, requested_by=contact)
    ParticipationFactory(city=city, contact=contact)
    MayoralTermFactory(city=city)
    PledgeUpdateFactory(pledge=PledgeFactory(city=city, event=EventFactory()))

    page = manager_client.get(reverse(url_name))
    assert b'data-testid="export-links"' in page.content
    for fmt in ("csv", "xlsx"):
        response = manager_client.get(reverse(url_name), {"export": fmt})
        assert response.status_code == 200
        rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)
        assert rows[0] == get_resource(entity).get_export_headers()
        assert len(rows) >= 2
