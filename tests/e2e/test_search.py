import pytest

from crm.core.roles import PROGRAM_STAFF

from ..factories import (
    CityFactory,
    CountryFactory,
    EngagementFactory,
    MayoralTermFactory,
    MayorFactory,
    TARequestFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _world():
    freetown = CityFactory(name="Freetown", country=CountryFactory(code="SL", name="Sierra Leone"))
    MayoralTermFactory(city=freetown, mayor=MayorFactory(full_name="Yvonne Aki-Sawyerr"))
    EngagementFactory(summary="Call with Freetown on the heat action plan", cities=[freetown])
    TARequestFactory(
        city=freetown, topic="Data on climate-displaced residents", description="Freetown asks."
    )
    return freetown


def test_ctrl_k_type_and_enter_opens_the_best_match(page, login, screenshot):
    freetown = _world()
    login(PROGRAM_STAFF)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.keyboard.press("Control+k")
    palette = page.get_by_test_id("palette-input")
    assert palette.is_visible()
    assert palette.evaluate("el => el === document.activeElement")
    # Before typing: the usual actions.
    options = page.get_by_test_id("palette-options")
    options.get_by_role("option", name="Log engagement").wait_for()
    palette.fill("frietown")
    best = options.get_by_role("option").filter(has_text="Freetown").first
    best.wait_for()
    assert best.get_attribute("aria-selected") == "true"
    assert palette.get_attribute("aria-activedescendant") == best.get_attribute("id")
    assert palette.get_attribute("aria-expanded") == "true"
    screenshot("search-palette-desktop")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{freetown.get_absolute_url()}")


def test_palette_arrow_keys_and_actions(page, login):
    _world()
    login(PROGRAM_STAFF)
    page.keyboard.press("/")
    palette = page.get_by_test_id("palette-input")
    palette.fill("log")
    page.locator("[data-testid=palette-options][data-query=log]").wait_for()
    options = page.get_by_test_id("palette-options")
    first = options.get_by_role("option").first
    assert first.inner_text().strip() == "Log engagement"
    page.keyboard.press("ArrowDown")
    assert first.get_attribute("aria-selected") == "false"
    page.keyboard.press("ArrowUp")
    assert first.get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")
    page.wait_for_url("**/engagements/log/")


def test_full_results_page_and_palette_on_a_phone(page, login, screenshot):
    _world()
    login(PROGRAM_STAFF)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    # The search button sits in the navigation bar itself, not behind the menu toggle.
    page.get_by_test_id("nav-search").click()
    palette = page.get_by_test_id("palette-input")
    palette.fill("freetown")
    options = page.get_by_test_id("palette-options")
    options.get_by_role("option").filter(has_text="heat action plan").wait_for()
    screenshot("search-palette-phone")
    options.get_by_role("option").filter(has_text="All results").click()
    page.wait_for_url("**/search/?q=freetown")
    for kind in ("cities", "engagements", "ta_requests"):
        assert page.get_by_test_id(f"results-{kind}").is_visible()
    screenshot("search-results-phone")
    page.set_viewport_size({"width": 1366, "height": 768})
    screenshot("search-results-desktop")
