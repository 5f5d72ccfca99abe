import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .factories import TEST_PASSWORD, UserFactory

# Pages anyone may open without logging in, by URL name.
PUBLIC_URL_NAMES = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",
    "admin:login",
    "outreach:unsubscribe",
    # A calendar app fetches the feed with no session; the long random token is the key.
    "outreach:calendar_feed",
}

_CONVERTER_SAMPLES = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "path": "x/y",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def _sample_path(route):
    def replace(match):
        converter = match.group(1) or "str"
        return _CONVERTER_SAMPLES.get(converter, "1")

    return re.sub(r"<(?:(\w+):)?\w+>", replace, route)


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            if "^" in route or "(?P" in route:  # a regex route (the admin's): take it literally
                route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route).replace("^", "").replace("$", "")
                route = route.replace("\\", "")
            name = f"{namespace}{entry.name}" if entry.name else None
            yield name, "/" + _sample_path(route)


def all_routes():
    return sorted(set(_walk(get_resolver().url_patterns)), key=lambda item: item[1])


def test_every_page_sends_anonymous_visitors_to_login(client, db):
    checked = 0
    for name, path in all_routes():
        if name in PUBLIC_URL_NAMES or path.startswith("/static/"):
            continue
        response = client.get(path)
        checked += 1
        if response.status_code in (302, 301):
            assert "login" in response["Location"], (
                f"{path} redirects elsewhere: {response['Location']}"
            )
        else:
            # Logout only takes POST; anything else must refuse, never show a page.
            assert response.status_code in (403, 405), (
                f"{path} ({name}) answered {response.status_code}"
            )
    assert checked > 10


def test_login_then_logout(client, db):
    user = UserFactory(username="amina")
    response = client.post(reverse("login"), {"username": "amina", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"] == user
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_wrong_password_is_refused_with_a_message(client, db):
    UserFactory(username="amina")
    response = client.post(reverse("login"), {"username": "amina", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_password_change_takes_effect(client, db):
    user = UserFactory(username="amina")
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "an0ther-Long-secret",
            "new_password2": "an0ther-Long-secret",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("an0ther-Long-secret")


def test_repeated_failed_logins_lock_the_account(client, db, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="amina")
    for _ in range(3):
        client.post(reverse("login"), {"username": "amina", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "amina", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed log-ins" in response.content


@pytest.mark.parametrize("name", ["login", "healthz"])
def test_public_pages_open_without_login(client, db, name):
    assert client.get(reverse(name)).status_code in (200, 503)
