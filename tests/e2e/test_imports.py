import re
from pathlib import Path

import pytest

from cities.models import City, Contact, Country
from crm.core.roles import MANAGER, PROGRAM_STAFF

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


@pytest.fixture
def cities(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    brazil = Country.objects.get_or_create(
        code="BR", defaults={"name": "Brazil", "region": "latin_america"}
    )[0]
    colombia = Country.objects.get_or_create(
        code="CO", defaults={"name": "Colombia", "region": "latin_america"}
    )[0]
    City.objects.create(name="São Paulo", country=brazil)
    City.objects.create(name="Bogotá", country=colombia)


def test_staff_upload_preview_and_confirm_in_a_real_browser(page, login, screenshot, cities):
    login(PROGRAM_STAFF)
    page.goto("/data/")
    page.select_option("select[name=entity]", "contacts")
    page.set_input_files("input[name=file]", str(FIXTURES / "contacts_messy.csv"))
    screenshot("import-start")
    page.click("text=Upload and preview")
    page.wait_for_url(re.compile(r".*/data/imports/\d+/$"))

    counts = page.locator("[data-testid=import-counts]").inner_text()
    assert "2\nto create" in counts
    assert "Shoe size" in page.locator("main").inner_text()  # the ignored column is warned
    screenshot("import-preview")
    assert Contact.objects.count() == 0

    page.click("[data-testid=confirm-import]")
    page.wait_for_url("**/data/imports/")
    assert "2 created" in page.locator(".alert-success").inner_text()
    assert Contact.objects.count() == 2
    screenshot("import-log")


def test_preview_errors_and_rollback_on_a_phone(browser, live_server, cities):
    from ..conftest import user_with_role
    from ..factories import TEST_PASSWORD

    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    phone = context.new_page()
    user = user_with_role(MANAGER, username="phone-manager")
    phone.goto("/accounts/login/")
    phone.fill("input[name=username]", user.username)
    phone.fill("input[name=password]", TEST_PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url("**/")

    phone.goto("/data/")
    phone.set_input_files("input[name=file]", str(FIXTURES / "contacts_utf8.csv"))
    phone.select_option("select[name=entity]", "contacts")
    phone.click("text=Upload and preview")
    phone.wait_for_url(re.compile(r".*/data/imports/\d+/$"))
    # Zürich is not in this database: the row is in error, nothing can be confirmed.
    errors = phone.locator("[data-testid=import-errors]").inner_text()
    assert "No city “Zurich”" in errors
    assert phone.locator("[data-testid=confirm-import]").count() == 0
    phone.screenshot(
        path=str(
            Path(__file__).resolve().parents[2] / "test-artifacts" / "import-errors-phone.png"
        ),
        full_page=True,
    )
    context.close()
