import datetime

import pytest
from django.utils import timezone

from crm.core.roles import PROGRAM_STAFF
from pledges.models import Framework, Pledge
from pledges.services import pledge_add_update

from ..factories import CityFactory, CountryFactory, EventFactory, PledgeFactory
from .conftest import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_add_a_pledge_then_progress_updates_in_a_real_browser(page, login, screenshot):
    today = timezone.localdate()
    colombia = CountryFactory(code="CO", name="Colombia")
    bogota = CityFactory(name="Bogotá", country=colombia)
    EventFactory(name="International Migration Review Forum 2022", start_date=today)
    # A few other pledges, so the list and the summary have something to compare with.
    inclusion = Framework.objects.get(kind="gcm_objective", number=16)
    done = PledgeFactory(title="Integration route", frameworks=[inclusion])
    pledge_add_update(pledge=done, date=today, note="Done.", percent=100, author=None)
    PledgeFactory(
        title="Data observatory",
        announced_on=today - datetime.timedelta(days=400),
        frameworks=[Framework.objects.get(kind="gcm_objective", number=1)],
    )
    login(PROGRAM_STAFF)

    # "Add pledge" on the city page arrives with the city chosen.
    page.goto(bogota.get_absolute_url())
    page.locator("[data-testid=city-pledges]").get_by_role("link", name="Add pledge").click()
    page.wait_for_url(f"**/pledges/new/?city={bogota.pk}")
    assert "Bogotá" in page.locator("#div_id_city").inner_text()
    page.fill("#id_title", "Two more migrant integration centres")
    page.fill("#id_description", "Announced by the mayor at the IMRF.")
    for search in ("Inclusion and social", "Access to basic"):
        page.fill("#id_frameworks-ts-control", search)
        page.click(f".ts-dropdown .option:has-text('{search}')")
    page.keyboard.press("Escape")
    page.click("#div_id_event .ts-control")
    page.fill("#id_event-ts-control", "Review Forum")
    page.click(".ts-dropdown .option:has-text('International Migration Review Forum 2022')")
    page.fill("#id_target_date", (today + datetime.timedelta(days=365)).isoformat())
    screenshot("pledge-form")
    page.click("button[type=submit]:has-text('Save')")

    page.wait_for_url("**/pledges/*/")
    assert "was created" in page.locator(".alert-success").inner_text()
    assert page.locator("[data-testid=pledge-status]").inner_text() == "Announced"
    frameworks = page.locator("[data-testid=pledge-frameworks]").inner_text()
    assert "GCM 16: Inclusion and social cohesion" in frameworks
    assert "GCM 15: Access to basic services" in frameworks

    # A progress update from the pledge page.
    form = page.locator("[data-testid=update-form]")
    form.locator("#id_percent").fill("40")
    form.locator("#id_note").fill("First centre opened in Kennedy.")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/pledges/*/#updates")
    assert "Progress update saved (40 %)" in page.locator(".alert-success").inner_text()
    assert page.locator("[data-testid=pledge-status]").inner_text() == "In progress"
    assert "40 %" in page.locator("[data-testid=pledge-progress]").inner_text()

    # Achieved needs 100 %: the form says so and nothing is saved.
    form = page.locator("[data-testid=update-form]")
    form.locator("#id_percent").fill("90")
    form.locator("#id_note").fill("Nearly there.")
    form.locator("#id_status").select_option("achieved")
    form.locator("button[type=submit]").click()
    assert "Achieved means 100 %" in page.locator("body").inner_text()
    pledge = Pledge.objects.get(title="Two more migrant integration centres")
    assert pledge.updates.count() == 1

    # Reaching 100 % marks it achieved.
    page.goto(pledge.get_absolute_url())
    form = page.locator("[data-testid=update-form]")
    form.locator("#id_percent").fill("100")
    form.locator("#id_note").fill("Second centre opened in Suba.")
    form.locator("#id_evidence_url").fill("https://example.org/press-release")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/pledges/*/#updates")
    assert page.locator("[data-testid=pledge-status]").inner_text() == "Achieved"
    history = page.locator("[data-testid=update-history] tbody tr")
    assert history.count() == 2
    assert "Second centre opened in Suba." in history.first.inner_text()
    assert page.locator("#progress-chart").is_visible()
    screenshot("pledge-detail")

    page.goto("/pledges/")
    assert page.locator("[data-testid=pledge-row]").count() == 3
    assert "Achieved 2" in page.locator("[data-testid=status-counts]").inner_text()
    screenshot("pledge-list")
    page.goto("/pledges/?stalled=true")
    assert page.locator("[data-testid=pledge-row]").count() == 1
    assert "Data observatory" in page.locator("[data-testid=pledge-row]").inner_text()

    page.goto("/pledges/frameworks/")
    row = page.locator(f"[data-testid=framework-row][data-framework='{inclusion.pk}']")
    assert row.locator("[data-stat=pledges]").inner_text() == "2"
    assert row.locator("[data-stat=achieved]").inner_text() == "100 %"
    screenshot("pledge-framework-summary")
    row.locator("[data-stat=pledges]").click()
    assert page.locator("[data-testid=pledge-row]").count() == 2

    # The city page lists the pledge with its status and progress.
    page.goto(bogota.get_absolute_url())
    section = page.locator("[data-testid=city-pledges]")
    assert "Two more migrant integration centres" in section.inner_text()
    assert "Achieved" in section.inner_text() and "100 %" in section.inner_text()
    section.screenshot(path=str(ARTIFACTS / "pledge-city-section.png"))

    # On a phone the list still reads.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/pledges/")
    screenshot("pledge-list-phone")
