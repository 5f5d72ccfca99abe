import pytest

from crm.core.roles import PROGRAM_STAFF

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_login_home_logout_in_a_real_browser(page, login, screenshot):
    page.goto("/")
    assert "/accounts/login/" in page.url
    screenshot("login")

    login(PROGRAM_STAFF)
    assert page.locator("h1").inner_text() == "My work"
    assert "Welcome, Eve" in page.locator("main").inner_text()
    screenshot("home")

    page.click("[data-testid=user-menu]")
    page.click("text=Log out")
    page.wait_for_url("**/accounts/login/")
    page.goto("/")
    assert "/accounts/login/" in page.url
