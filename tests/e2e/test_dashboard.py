import pytest

from crm.core.roles import MANAGER
from crm.demo import synthetic

from ..factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def volume(db):
    UserFactory(username="amina")
    synthetic.seed(scale=1)


def test_dashboard_draws_its_charts_and_figures_open_their_lists(page, login, screenshot, volume):
    login(MANAGER)
    page.goto("/dashboard/")

    # Chart.js drew on every canvas (a drawn canvas has a non-zero size set by the library).
    page.wait_for_function(
        "Array.from(document.querySelectorAll('canvas[data-chart]'))"
        ".every(c => c.width > 0 && window.Chart && Chart.getChart(c))"
    )
    screenshot("dashboard")

    # The table fallback is hidden on screen until asked for.
    table = page.locator("#table-region")
    assert table.bounding_box()["width"] <= 1
    page.click("[data-table-toggle=table-region]")
    assert table.bounding_box()["width"] > 50

    dialogues = page.locator('[data-figure-link="dialogues"]')
    figure = int(dialogues.inner_text().replace(",", ""))
    dialogues.click()
    page.wait_for_url("**/engagements/**")
    assert f"{figure} result" in page.locator("[data-testid=result-count]").inner_text()


def test_dashboard_prints_tables_instead_of_charts(page, login, screenshot, volume):
    login(MANAGER)
    page.goto("/dashboard/")
    page.emulate_media(media="print")

    assert not page.locator("[data-testid=dashboard-filter]").is_visible()
    assert not page.locator("canvas[data-chart=month]").is_visible()
    assert page.locator("#table-month").bounding_box()["width"] > 50
    screenshot("dashboard-print")


def test_dashboard_on_a_phone(page, login, screenshot, volume):
    login(MANAGER)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/dashboard/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    screenshot("dashboard-phone")
