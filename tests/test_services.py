"""Under CI the suite must run on the real services, not the embedded defaults."""

from django.conf import settings
from django.db import connection

from .conftest import IN_CI, require


def test_ci_runs_on_postgresql(db):
    if IN_CI:
        assert connection.vendor == "postgresql", "CI=true but the database is not PostgreSQL"
    else:
        require(connection.vendor == "postgresql", "DATABASE_URL does not point at PostgreSQL")


def test_ci_uses_the_redis_broker(redis_url):
    assert settings.CELERY_BROKER_URL == redis_url
