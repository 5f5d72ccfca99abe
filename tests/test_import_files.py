"""Files as people really have them: encodings, delimiters, XLSX, messy headers, dates, and
files that are not importable at all (one clear message, nothing changed)."""

import datetime
from pathlib import Path

import pytest

from cities.models import City, Contact
from crm.imports.engine import commit_file, preview_file
from engagements.models import Event

from .factories import CityFactory, ContactFactory, CountryFactory

FIXTURES = Path(__file__).parent / "fixtures" / "imports"


@pytest.fixture
def cities(db):
    brazil = CountryFactory(code="BR", name="Brazil")
    swiss = CountryFactory(code="CH", name="Switzerland", region="europe")
    colombia = CountryFactory(code="CO", name="Colombia")
    return {
        "sao_paulo": CityFactory(name="São Paulo", country=brazil, aliases="SP\nSampa"),
        "zurich": CityFactory(name="Zürich", country=swiss),
        "bogota": CityFactory(name="Bogotá", country=colombia),
    }


def commit(entity, name, **kwargs):
    with (FIXTURES / name).open("rb") as fileobj:
        return commit_file(entity, fileobj, **kwargs)


def preview(entity, name, **kwargs):
    with (FIXTURES / name).open("rb") as fileobj:
        return preview_file(entity, fileobj, **kwargs)


@pytest.mark.parametrize(
    "name",
    [
        "contacts_utf8.csv",
        "contacts_utf8_bom.csv",
        "contacts_cp1252_semicolon.csv",
        "contacts_latin1.csv",
        "contacts.xlsx",
    ],
)
def test_contacts_import_from_every_common_encoding_and_format(cities, name):
    report = commit("contacts", name)

    assert report.committed, report.errors()
    assert report.counts["create"] == 3
    joao = Contact.objects.get(email="joao@saopaulo.example")
    assert (joao.first_name, joao.last_name) == ("João", "Araújo")
    assert joao.city == cities["sao_paulo"]  # "Sao Paulo, BR" found São Paulo
    assert joao.is_focal_point is True
    zoe = Contact.objects.get(email="zoe@zuerich.example")  # stored lower-case
    assert zoe.last_name == "Müller" and zoe.city == cities["zurich"]
    assert Contact.objects.get(email="andres@bogota.example").city == cities["bogota"]


def test_windows_1252_keeps_characters_latin1_lacks(cities):
    commit("contacts", "contacts_cp1252_semicolon.csv")
    assert Contact.objects.get(email="andres@bogota.example").organisation == "Fundação € Bogotá"


def test_xlsx_reads_the_first_sheet_and_formula_values_not_formulas(cities):
    report = commit("contacts", "contacts.xlsx")

    assert report.committed
    assert Contact.objects.count() == 3  # the decoy second sheet ("Atlantis") is not read
    assert set(Contact.objects.values_list("notes", flat=True)) == {"Focal point since 2021"}


def test_headers_in_any_case_and_spacing_extra_columns_warned_blank_lines_skipped(cities):
    report = commit("contacts", "contacts_messy.csv")

    assert report.committed, report.errors()
    assert report.counts == {"create": 2, "update": 0, "skip": 0, "error": 0}
    assert any("Shoe size" in warning for warning in report.warnings)
    ana = Contact.objects.get(email="ana@example.org")
    assert (ana.first_name, ana.last_name, ana.city) == ("Ana", "Silva", cities["sao_paulo"])


@pytest.mark.parametrize(
    ("name", "order"),
    [("events_dmy.csv", "dmy"), ("events_mdy.csv", "mdy"), ("events_iso.csv", "iso")],
)
def test_dates_read_in_the_chosen_order(db, name, order):
    report = commit("events", name, date_order=order)

    assert report.committed, report.errors()
    summit = Event.objects.get(name="GFMD Summit")
    assert summit.start_date == datetime.date(2024, 1, 22)
    assert summit.end_date == datetime.date(2024, 1, 24)
    assert Event.objects.get(name="IMRF").start_date == datetime.date(2026, 3, 5)


def test_slashed_dates_without_a_chosen_order_are_errors_that_say_what_to_do(db):
    report = commit("events", "events_dmy.csv")

    assert not report.committed
    assert Event.objects.count() == 0
    (row, column, message), *_ = report.errors()
    assert (row, column) == (2, "Start date")
    assert "choose that date format" in message


def test_iso_dates_are_read_whatever_order_is_chosen(db):
    assert commit("events", "events_iso.csv", date_order="dmy").committed


def test_city_file_matches_accents_aliases_and_country_names(cities):
    report = commit("cities", "cities.csv")  # C40 is one of the networks every install has

    assert report.committed, report.errors()
    assert report.counts["create"] == 1 and report.counts["update"] == 1
    sao_paulo = City.objects.get(pk=cities["sao_paulo"].pk)
    assert sao_paulo.name == "São Paulo"  # matched, never renamed to the unaccented spelling
    assert sao_paulo.population == 12_000_000
    assert [str(n) for n in sao_paulo.networks.all()] == ["C40"]
    medellin = City.objects.get(name="Medellín")
    assert medellin.country.code == "CO" and medellin.population == 2_500_000
    assert medellin.name_key == "medellin"  # what City.save() would have set


@pytest.mark.parametrize(
    ("name", "entity", "expected"),
    [
        ("not_a_spreadsheet.png", "contacts", "This is not a spreadsheet"),
        ("legacy.xls", "contacts", "Old Excel files (.xls) are not supported"),
        ("no_header.csv", "contacts", "No recognisable header row"),
        ("pledges.csv", "contacts", "This file looks like pledges, not contacts"),
        ("contacts_utf8.csv", "events", "This file looks like contacts, not events"),
    ],
)
def test_unreadable_files_get_one_clear_message_and_change_nothing(cities, name, entity, expected):
    ContactFactory(email="kept@example.org")
    report = commit(entity, name)

    assert not report.committed
    assert report.errors() == [(None, "", report.file_error)]
    assert expected in report.file_error
    assert list(Contact.objects.values_list("email", flat=True)) == ["kept@example.org"]


def test_a_file_over_the_size_limit_is_refused(settings, db, tmp_path):
    from crm.imports.files import ImportFileError, check_size

    settings.IMPORT_MAX_UPLOAD_MB = 1
    with pytest.raises(ImportFileError, match="too large.*limit is 1 MB"):
        check_size(2 * 1024 * 1024)
    check_size(1024 * 1024)  # exactly the limit is fine


def test_preview_changes_nothing(cities):
    report = preview("contacts", "contacts_utf8.csv")

    assert report.counts["create"] == 3
    assert Contact.objects.count() == 0
