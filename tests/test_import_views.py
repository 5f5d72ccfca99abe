"""The import pages: upload → preview → confirm, the import log, rollback and who may do what."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cities.models import Contact
from crm.models import ImportBatch

from .conftest import user_with_role
from .factories import CityFactory, ContactFactory, CountryFactory, UserFactory

GOOD = (
    "First name,Last name,Email,City,Phone\n"
    'Ana,Silva,ana@example.org,"Sao Paulo, BR",+55 1\n'
    "Bo,Li,bo@example.org,,\n"
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def sao_paulo(db):
    return CityFactory(name="São Paulo", country=CountryFactory(code="BR", name="Brazil"))


def upload(client, text, name="contacts.csv", entity="contacts", date_order="iso"):
    return client.post(
        reverse("crm:import_start"),
        {
            "entity": entity,
            "date_order": date_order,
            "file": SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv"),
        },
    )


def test_staff_upload_preview_confirm(staff_client, staff_user, sao_paulo, media_root):
    ContactFactory(email="bo@example.org", first_name="Bo", last_name="Li", phone="9", city=None)

    response = upload(staff_client, GOOD)

    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("crm:import_preview", args=[batch.pk])
    # The file waits under MEDIA_ROOT with a random name, not the uploader's.
    assert re.fullmatch(r"imports/[0-9a-f]{32}\.csv", batch.file.name)
    assert (media_root / batch.file.name).read_text() == GOOD
    assert Contact.objects.count() == 1  # nothing written yet

    page = staff_client.get(response["Location"])
    content = page.content.decode()
    assert page.status_code == 200
    assert (batch.rows_created, batch.rows_updated, batch.rows_in_error) == (1, 1, 0)
    assert "ana@example.org" in content
    assert "Phone" in content and "9" in content  # the changed field with its old value
    assert 'data-testid="confirm-import"' in content

    done = staff_client.post(reverse("crm:import_confirm", args=[batch.pk]))

    assert done.status_code == 302 and done["Location"] == reverse("crm:import_batches")
    assert Contact.objects.get(email="ana@example.org").city == sao_paulo
    assert Contact.objects.get(email="bo@example.org").phone == ""
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED and batch.created_by == staff_user
    log = staff_client.get(reverse("crm:import_batches")).content.decode()
    assert "contacts.csv" in log and "Imported" in log
    # A second confirm of the same batch writes nothing more.
    staff_client.post(reverse("crm:import_confirm", args=[batch.pk]))
    assert Contact.objects.count() == 2


def test_preview_with_errors_shows_rows_and_columns_and_cannot_be_confirmed(
    staff_client, sao_paulo
):
    upload(staff_client, GOOD + "Cy,Z,cy@example.org,Sao Paolo,\n")
    batch = ImportBatch.objects.get()

    content = staff_client.get(reverse("crm:import_preview", args=[batch.pk])).content.decode()

    assert 'data-testid="import-blocked"' in content
    assert 'data-testid="confirm-import"' not in content
    assert "<td>4</td><td>City</td>" in content
    assert "Did you mean “São Paulo, BR”?" in content

    staff_client.post(reverse("crm:import_confirm", args=[batch.pk]))
    assert Contact.objects.count() == 0


def test_an_unreadable_file_gets_one_message_and_leaves_nothing(staff_client, db, media_root):
    response = upload(staff_client, "just some words\nwithout columns\n")

    assert response.status_code == 200
    assert "No recognisable header row" in response.content.decode()
    assert not ImportBatch.objects.exists()
    assert not (media_root / "imports").exists() or not any((media_root / "imports").iterdir())


def test_a_too_large_upload_is_refused(staff_client, db, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 0
    response = upload(staff_client, GOOD)
    assert "too large" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_staff_see_only_their_own_batches(staff_client, sao_paulo):
    other = user_with_role("Program staff", username="other")
    someone_else = ImportBatch.objects.create(
        entity="contacts", original_name="theirs.csv", created_by=other
    )
    assert (
        staff_client.get(reverse("crm:import_preview", args=[someone_else.pk])).status_code == 404
    )
    assert (
        staff_client.post(reverse("crm:import_confirm", args=[someone_else.pk])).status_code == 404
    )
    assert "theirs.csv" not in staff_client.get(reverse("crm:import_batches")).content.decode()


def logged_in(role, username):
    client = Client()
    client.force_login(user_with_role(role, username=username))
    return client


def test_only_managers_roll_back(sao_paulo):
    # Two browsers: the client fixtures share one session.
    staff_client = logged_in("Program staff", "staff")
    manager_client = logged_in("Manager", "manager")
    upload(staff_client, GOOD)
    batch = ImportBatch.objects.get()
    staff_client.post(reverse("crm:import_confirm", args=[batch.pk]))
    url = reverse("crm:import_rollback", args=[batch.pk])

    assert staff_client.post(url).status_code == 403
    assert Contact.objects.count() == 2

    assert manager_client.get(url).status_code == 200
    response = manager_client.post(url, follow=True)
    assert "was rolled back" in response.content.decode()
    assert Contact.objects.count() == 0


def test_rollback_refused_with_a_clear_message(manager_client, sao_paulo):
    upload(manager_client, GOOD)
    batch = ImportBatch.objects.get()
    manager_client.post(reverse("crm:import_confirm", args=[batch.pk]))
    ana = Contact.objects.get(email="ana@example.org")
    ana.title = "Mayor's adviser"
    ana.save()

    response = manager_client.post(reverse("crm:import_rollback", args=[batch.pk]), follow=True)

    assert "cannot be rolled back" in response.content.decode()
    assert Contact.objects.count() == 2


def test_users_without_the_import_right_are_refused(client, db):
    client.force_login(UserFactory())
    assert client.get(reverse("crm:import_start")).status_code == 403
    assert client.get(reverse("crm:import_batches")).status_code == 403
    assert client.get(reverse("crm:export_template", args=["contacts", "csv"])).status_code == 403


def test_hub_offers_templates_to_staff_and_exports_to_managers(db):
    staff_client = logged_in("Program staff", "staff")
    manager_client = logged_in("Manager", "manager")
    staff_page = staff_client.get(reverse("crm:import_start")).content.decode()
    assert reverse("crm:export_template", args=["contacts", "xlsx"]) in staff_page
    assert reverse("crm:export_entity", args=["contacts", "xlsx"]) not in staff_page
    assert (
        staff_client.get(reverse("crm:export_entity", args=["contacts", "csv"])).status_code == 403
    )

    manager_page = manager_client.get(reverse("crm:import_start")).content.decode()
    assert reverse("crm:export_entity", args=["contacts", "xlsx"]) in manager_page


def test_entity_is_preselected_from_a_list_page_link(staff_client):
    page = staff_client.get(reverse("crm:import_start"), {"entity": "pledges"})
    assert '<option value="pledges" selected>' in page.content.decode()


def test_import_log_bounded_queries(manager_client, manager_user, django_assert_max_num_queries):
    for i in range(30):
        ImportBatch.objects.create(
            entity="contacts", original_name=f"{i}.csv", created_by=manager_user
        )
    with django_assert_max_num_queries(12):
        assert manager_client.get(reverse("crm:import_batches")).status_code == 200
