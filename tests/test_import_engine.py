"""The import engine: natural keys, previews that say exactly what will change, all-or-nothing
commits, history, rollback, and the command line."""

import datetime
import io

import pytest
from django.core.management import call_command

from cities.models import Contact, Mayor, MayoralTerm
from crm.imports.batches import RollbackRefused, import_batch_rollback, import_file_now
from crm.imports.engine import commit_file, preview_file
from crm.models import ImportBatch
from engagements.models import Engagement, Event
from pledges.models import Pledge, PledgeUpdate

from .factories import (
    CityFactory,
    ContactFactory,
    CountryFactory,
    EventFactory,
    PledgeFactory,
    UserFactory,
)


def csv_file(text):
    return io.BytesIO(text.encode("utf-8"))


CONTACTS = """First name,Last name,Email,City,Phone
Ana,Silva,ana@example.org,"Sao Paulo, BR",+55 1
Bo,Li,bo@example.org,Recife,
"""


@pytest.fixture
def cities(db):
    brazil = CountryFactory(code="BR", name="Brazil")
    return {
        "sao_paulo": CityFactory(name="São Paulo", country=brazil, aliases="Sampa"),
        "recife": CityFactory(name="Recife", country=brazil),
    }


def test_reimporting_the_same_file_creates_nothing_new(cities):
    assert commit_file("contacts", csv_file(CONTACTS)).counts["create"] == 2

    again = commit_file("contacts", csv_file(CONTACTS))

    assert again.counts == {"create": 0, "update": 0, "skip": 2, "error": 0}
    assert Contact.objects.count() == 2


def test_contact_matches_by_email_in_any_case(cities):
    ContactFactory(email="ana@example.org", first_name="Ana", last_name="Old", city=None)

    report = commit_file("contacts", csv_file(CONTACTS.replace("ana@", "ANA@")))

    assert report.counts["update"] == 1 and report.counts["create"] == 1
    assert Contact.objects.get(email="ana@example.org").last_name == "Silva"


def test_preview_lists_changed_fields_of_each_update_and_skips_unchanged(cities):
    ContactFactory(
        email="ana@example.org", first_name="Ana", last_name="Silva", phone="+55 0", city=None
    )
    ContactFactory(
        email="bo@example.org", first_name="Bo", last_name="Li", phone="", city=cities["recife"]
    )

    report = preview_file("contacts", csv_file(CONTACTS))

    assert report.counts == {"create": 0, "update": 1, "skip": 1, "error": 0}
    (update,) = [row for row in report.rows if row.action == "update"]
    assert update.number == 2
    assert update.changes == [("City", "", "São Paulo, BR"), ("Phone", "+55 0", "+55 1")]
    assert Contact.objects.get(email="ana@example.org").phone == "+55 0"  # preview wrote nothing


def test_an_error_anywhere_changes_nothing(cities):
    ContactFactory(email="ana@example.org", first_name="Ana", phone="+55 0", city=None)
    text = CONTACTS + "Cy,Z,not-an-email,Recife,\n"

    report = commit_file("contacts", csv_file(text))

    assert not report.committed
    assert report.counts["error"] == 1
    assert report.errors() == [(4, "Email", "Enter a valid email address.")]
    assert Contact.objects.count() == 1
    assert Contact.objects.get().phone == "+55 0"  # the valid update on row 2 was not applied


def test_unknown_reference_is_an_error_naming_the_closest_match(cities):
    report = preview_file("contacts", csv_file("First name,Email,City\nAna,a@x.org,Recif\n"))

    assert report.errors() == [(2, "City", "No city “Recif”. Did you mean “Recife, BR”?")]


def test_city_reference_in_another_country_is_ambiguous_without_the_country(cities):
    CityFactory(name="Recife", country=CountryFactory(code="PT", name="Portugal"))

    report = preview_file("contacts", csv_file("First name,Email,City\nAna,a@x.org,Recife\n"))
    (_, column, message), *_ = report.errors()
    assert column == "City" and "several countries" in message

    ok = preview_file("contacts", csv_file('First name,Email,City\nAna,a@x.org,"Recife, BR"\n'))
    assert ok.errors() == []


def test_the_same_record_twice_in_a_file_is_an_error(cities):
    text = "First name,Email\nAna,ana@example.org\nAnna,ANA@example.org\n"
    report = preview_file("contacts", csv_file(text))
    assert report.errors() == [(3, "", "The same record as row 2: keep one of the two rows.")]


def test_required_values_and_columns(cities):
    missing_value = preview_file("contacts", csv_file("First name,Email\n,ana@example.org\n"))
    assert missing_value.errors() == [(2, "First name", "This column is required.")]

    missing_column = preview_file("contacts", csv_file("Email,Phone\nana@example.org,1\n"))
    assert "no “First name” column" in missing_column.file_error


def test_bulk_import_keeps_history_with_who_and_which_batch(cities):
    user = UserFactory(username="importer")
    report, batch = import_file_now(
        entity="contacts", fileobj=csv_file(CONTACTS), filename="people.csv", user=user
    )

    ana = Contact.objects.get(email="ana@example.org")
    (record,) = ana.history.all()
    assert record.history_type == "+"
    assert record.history_user == user
    assert record.history_change_reason == f"Import batch #{batch.pk}"
    assert ana.name_key == "ana silva"  # what Contact.save() would have set
    assert (batch.entity, batch.original_name, batch.created_by) == ("contacts", "people.csv", user)
    assert (batch.rows_created, batch.rows_updated, batch.rows_skipped) == (2, 0, 0)


def test_rollback_deletes_created_and_restores_updated_records(cities):
    ContactFactory(email="ana@example.org", first_name="Ana", phone="+55 0", city=None)
    _, batch = import_file_now(entity="contacts", fileobj=csv_file(CONTACTS), filename="f.csv")
    assert Contact.objects.get(email="ana@example.org").phone == "+55 1"

    import_batch_rollback(batch=batch, user=UserFactory())

    assert list(Contact.objects.values_list("email", "phone", "city")) == [
        ("ana@example.org", "+55 0", None)
    ]
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.ROLLED_BACK


def test_rollback_is_refused_when_a_record_was_edited_since(cities):
    _, batch = import_file_now(entity="contacts", fileobj=csv_file(CONTACTS), filename="f.csv")
    bo = Contact.objects.get(email="bo@example.org")
    bo.phone = "123"
    bo.save()

    with pytest.raises(RollbackRefused, match="edited or deleted since.*Bo Li"):
        import_batch_rollback(batch=batch)

    assert Contact.objects.count() == 2
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED


def test_rolling_back_a_later_batch_lets_the_earlier_one_roll_back_too(cities):
    _, first = import_file_now(entity="contacts", fileobj=csv_file(CONTACTS), filename="a.csv")
    _, second = import_file_now(
        entity="contacts", fileobj=csv_file(CONTACTS.replace("+55 1", "+55 9")), filename="b.csv"
    )
    with pytest.raises(RollbackRefused):
        import_batch_rollback(batch=first)

    import_batch_rollback(batch=second)
    import_batch_rollback(batch=first)

    assert Contact.objects.count() == 0


def test_mayors_file_creates_new_mayors_with_their_terms_and_rolls_back_both(cities):
    text = "Mayor,City,Term start,Term end\nRicardo Nunes,Sao Paulo,2021-05-16,\n"
    _, batch = import_file_now(entity="mayors", fileobj=csv_file(text), filename="m.csv")

    term = MayoralTerm.objects.get()
    assert (term.mayor.full_name, term.city, term.end_date) == (
        "Ricardo Nunes",
        cities["sao_paulo"],
        None,
    )
    assert term.mayor.name_key == "ricardo nunes"
    assert commit_file("mayors", csv_file(text)).counts["skip"] == 1

    import_batch_rollback(batch=batch)
    assert not Mayor.objects.exists() and not MayoralTerm.objects.exists()


def test_events_match_by_name_and_start_date(db):
    EventFactory(name="GFMD Summit", start_date=datetime.date(2024, 1, 22), place="Geneva")
    text = (
        "Name,Process,Start date,Place\n"
        "gfmd summit,GFMD,2024-01-22,Geneva\n"
        "GFMD Summit,GFMD,2025-01-20,Geneva\n"
    )
    report = commit_file("events", csv_file(text))

    assert report.counts == {"create": 1, "update": 0, "skip": 1, "error": 0}
    assert Event.objects.filter(name="GFMD Summit").count() == 2


def test_pledges_match_by_city_and_title_and_updates_set_progress(cities):
    pledge = PledgeFactory(city=cities["recife"], title="Welcome centre")
    text = "City,Title,Status\nRecife,welcome centre,in progress\nRecife,Language classes,\n"
    report = commit_file("pledges", csv_file(text))
    assert report.counts == {"create": 1, "update": 1, "skip": 0, "error": 0}
    assert Pledge.objects.get(pk=pledge.pk).status == Pledge.Status.IN_PROGRESS

    updates = "City,Pledge,Date,Percent,Note\nRecife,Welcome centre,2025-02-01,40,Opened\n"
    _, batch = import_file_now(entity="pledge-updates", fileobj=csv_file(updates), filename="u")
    pledge.refresh_from_db()
    assert (pledge.progress_percent, pledge.last_update_on) == (40, datetime.date(2025, 2, 1))

    import_batch_rollback(batch=batch)
    pledge.refresh_from_db()
    assert not PledgeUpdate.objects.exists() and pledge.progress_percent == 0


def test_engagements_owner_defaults_to_the_importer_and_cities_are_many(cities):
    user = UserFactory(username="amina")
    text = 'Date,Kind,Cities,Summary\n2025-03-01,call,"Recife; Sao Paulo, BR",Kick-off call\n'
    report, _ = import_file_now(
        entity="engagements", fileobj=csv_file(text), filename="e.csv", user=user
    )

    assert report.committed, report.errors()
    engagement = Engagement.objects.get()
    assert engagement.owner == user
    assert set(engagement.cities.all()) == set(cities.values())


def test_cli_import_prints_errors_then_the_counts_and_exits_non_zero(cities, tmp_path, capsys):
    path = tmp_path / "contacts.csv"
    path.write_text(CONTACTS + "Cy,Z,cy@example.org,Atlantis,\n", encoding="utf-8")

    with pytest.raises(SystemExit) as exit_info:
        call_command("import_data", "contacts", str(path))

    out, err = capsys.readouterr()
    assert exit_info.value.code == 1
    assert "row 4, City: No city “Atlantis”." in err
    assert out.strip().splitlines()[-1] == "created=2 updated=0 skipped=0 errors=1"
    assert Contact.objects.count() == 0


def test_cli_dry_run_then_import(cities, tmp_path, capsys):
    path = tmp_path / "contacts.csv"
    path.write_text(CONTACTS, encoding="utf-8")

    call_command("import_data", "contacts", str(path), "--dry-run")
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        "created=2 updated=0 skipped=0 errors=0"
    )
    assert Contact.objects.count() == 0

    call_command("import_data", "contacts", str(path))
    assert Contact.objects.count() == 2
    assert ImportBatch.objects.get().rows_created == 2


def test_cli_export_follows_the_extension(cities, tmp_path):
    ContactFactory(email="ana@example.org", first_name="Ana", city=cities["sao_paulo"])
    for suffix in ("csv", "xlsx"):
        path = tmp_path / f"out.{suffix}"
        call_command("export_data", "contacts", str(path))
        with path.open("rb") as fileobj:
            assert commit_file("contacts", fileobj).counts["skip"] == 1


def test_contact_written_in_capitals_by_a_bulk_load_still_matches(cities):
    Contact.objects.bulk_create([Contact(first_name="Ana", email="ANA@Example.org")])

    report = commit_file("contacts", csv_file(CONTACTS))

    assert report.counts["update"] == 1 and report.counts["create"] == 1
    assert Contact.objects.count() == 2


def test_city_rows_match_known_aliases_and_rollback_restores_networks(cities):
    from cities.models import City, CityNetwork

    sao_paulo = cities["sao_paulo"]
    uclg = CityNetwork.objects.get(short_name="UCLG")
    sao_paulo.networks.set([uclg])
    text = "Name,Country,Networks\nSampa,Brazil,C40; UCLG\n"

    report, batch = import_file_now(entity="cities", fileobj=csv_file(text), filename="c.csv")

    assert report.counts == {"create": 0, "update": 1, "skip": 0, "error": 0}
    (row,) = report.rows
    assert row.changes == [("Networks", "UCLG", "C40; UCLG")]
    sao_paulo.refresh_from_db()
    assert sao_paulo.name == "São Paulo"
    assert sorted(str(n) for n in sao_paulo.networks.all()) == ["C40", "UCLG"]

    import_batch_rollback(batch=batch)
    assert [str(n) for n in City.objects.get(pk=sao_paulo.pk).networks.all()] == ["UCLG"]


def test_contact_city_reference_by_alias(cities):
    report = commit_file("contacts", csv_file("First name,Email,City\nAna,a@x.org,sampa\n"))
    assert report.committed
    assert Contact.objects.get().city == cities["sao_paulo"]


def test_an_imported_update_shows_on_the_record_history_like_an_edit(cities):
    from crm.core.history import history_entries

    user = UserFactory(username="importer")
    import_file_now(entity="contacts", fileobj=csv_file(CONTACTS), filename="a.csv", user=user)
    import_file_now(
        entity="contacts",
        fileobj=csv_file(CONTACTS.replace("+55 1", "+55 2")),
        filename="b.csv",
        user=user,
    )

    ana = Contact.objects.get(email="ana@example.org")
    changed, created = history_entries(ana)
    assert (changed.action, changed.who, created.action) == ("changed", user, "created")
    assert changed.changes == [("Phone", "+55 1", "+55 2")]
    assert ana.updated_at > ana.created_at  # auto_now kept moving, as save() would
