"""A real Celery worker consumes a task from the configured broker (Redis in CI)."""

import uuid
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.sessions.models import Session
from django.utils import timezone

from config.celery import app as celery_app
from crm.tasks import clear_expired_sessions

from .conftest import IN_CI


@pytest.fixture
def real_worker(settings):
    """A worker thread on the real broker, listening on a queue of its own."""
    if IN_CI:
        assert settings.CELERY_BROKER_URL.startswith("redis://"), "CI must use Redis"
    queue = f"test-{uuid.uuid4().hex[:8]}"
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_default_queue
    conf.task_always_eager = False
    conf.task_default_queue = queue
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=10
    ):
        yield
    conf.task_always_eager, conf.task_default_queue = saved


def _wait_for(condition, seconds=15):
    deadline = timezone.now() + timedelta(seconds=seconds)
    while timezone.now() < deadline:
        if condition():
            return True
        import time

        time.sleep(0.1)
    return False


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_worker_runs_a_queued_task_against_the_database(real_worker, redis_url_if_ci):
    Session.objects.create(
        session_key="old", session_data="", expire_date=timezone.now() - timedelta(days=1)
    )
    Session.objects.create(
        session_key="live", session_data="", expire_date=timezone.now() + timedelta(days=1)
    )
    clear_expired_sessions.delay()
    assert _wait_for(lambda: not Session.objects.filter(session_key="old").exists())
    assert Session.objects.filter(session_key="live").exists()
