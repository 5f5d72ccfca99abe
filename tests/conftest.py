import os
import socket
from urllib.parse import urlparse

import pytest
from django.contrib.auth.models import Group

from config.celery import app as celery_app
from crm.core.roles import ADMIN, MANAGER, PROGRAM_STAFF

from .factories import UserFactory
from .imap_server import ServerUnavailable, dovecot

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config):
    """Tests hash passwords with a fast hasher: the production one costs half a CPU-second per
    user, which made user creation the largest single cost of the suite."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def require(condition, why):
    """Use a real service or explain: under CI a missing service fails the test, never skips."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{why} (required under CI=true)")
    pytest.skip(why)


def redis_reachable(url):
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL", "")
    require(url, "REDIS_URL is not set")
    require(redis_reachable(url), f"Redis at {url} is not reachable")
    return url


@pytest.fixture(autouse=True, scope="session")
def _tasks_run_inline():
    """Tasks run in-process unless a test starts a real worker (see tests/test_worker.py)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield


@pytest.fixture(autouse=True)
def _email_in_memory(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _no_login_throttle_by_default(settings):
    settings.AXES_ENABLED = False


def user_with_role(role, **kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def staff_user(db):
    return user_with_role(PROGRAM_STAFF, username="staff")


@pytest.fixture
def manager_user(db):
    return user_with_role(MANAGER, username="manager")


@pytest.fixture
def admin_role_user(db):
    return user_with_role(ADMIN, username="adminrole")


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def manager_client(client, manager_user):
    client.force_login(manager_user)
    return client


@pytest.fixture
def redis_url_if_ci():
    """Under CI the broker must be the real Redis; locally the embedded broker also counts."""
    if IN_CI or os.environ.get("REDIS_URL"):
        url = os.environ.get("REDIS_URL", "")
        require(url, "REDIS_URL is not set")
        require(redis_reachable(url), f"Redis at {url} is not reachable")
        return url
    return None


@pytest.fixture(autouse=True)
def _dashboard_cache_per_test(settings):
    """The dashboard's figure cache is in memory and empty for each test (never var/ or Redis),
    so no test sees figures computed for another test's data."""
    from django.core.cache import caches

    settings.CACHES = {
        **settings.CACHES,
        "dashboard": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "dashboard-tests",
        },
    }
    caches["dashboard"].clear()


@pytest.fixture(scope="session")
def _dovecot_server():
    """One Dovecot per test process (see tests/imap_server.py); each test gets its own user."""
    try:
        with dovecot() as server:
            yield server
    except ServerUnavailable as error:
        yield error


@pytest.fixture
def mailbox(_dovecot_server, settings):
    """An empty mailbox on the real IMAP server, with the CRM's CRM_INBOX_* settings on it."""
    require(not isinstance(_dovecot_server, Exception), f"no IMAP server: {_dovecot_server}")
    account = _dovecot_server.account()
    for name, value in account.settings().items():
        setattr(settings, name, value)
    return account
