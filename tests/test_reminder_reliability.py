"""Reminders are never lost and never doubled: concurrent scans, crashes, a broker outage, a
worker killed mid-send, SMTP errors, rolled-back transactions.

Tests marked ``services`` run a real Celery worker on the configured broker (Redis under CI; the
embedded filesystem broker otherwise), each on a queue of its own.
"""

import datetime
import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from outreach import services
from outreach.models import Campaign, CampaignRecipient, Reminder, ReminderDelivery
from outreach.tasks import deliver_reminder, scan_reminders

from .conftest import IN_CI, require
from .factories import ContactFactory, EngagementFactory, UserFactory

ROOT = Path(__file__).resolve().parents[1]


def _wait_for(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _due_follow_ups(count, **user_kwargs):
    owner = UserFactory(**user_kwargs)
    for _ in range(count):
        EngagementFactory(owner=owner, follow_up_date=timezone.localdate())
    return owner


@contextmanager
def _queue_of_its_own():
    """Tasks published from here go to a fresh queue on the real broker (not run inline)."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_default_queue
    queue = f"test-{uuid.uuid4().hex[:8]}"
    conf.task_always_eager = False
    conf.task_default_queue = queue
    try:
        yield queue
    finally:
        conf.task_always_eager, conf.task_default_queue = saved


@pytest.fixture
def real_worker(settings):
    """A worker thread on the real broker, consuming a queue of its own."""
    if IN_CI:
        assert settings.CELERY_BROKER_URL.startswith("redis://"), "CI must use Redis"
    with (
        _queue_of_its_own() as queue,
        start_worker(
            celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=10
        ),
    ):
        yield queue


class FlakyBackend(LocmemBackend):
    """Fails the first ``failures`` sends with a temporary SMTP error, then delivers."""

    failures = 0
    calls = 0

    def send_messages(self, messages):
        FlakyBackend.calls += 1
        if FlakyBackend.calls <= FlakyBackend.failures:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class RefusingBackend(LocmemBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: (550, b"5.1.1 User unknown")})


class SlowBackend(LocmemBackend):
    """Takes a while to send, so two workers have every chance to overlap."""

    def send_messages(self, messages):
        time.sleep(0.5)
        return super().send_messages(messages)


class SlowFileBackend:
    """For the worker subprocess: marks the start of a send, waits, then writes the message.

    Configured by environment: OUTREACH_TEST_MAIL_DIR and OUTREACH_TEST_SEND_DELAY (seconds).
    """

    def __init__(self, *args, **kwargs):
        self.folder = Path(os.environ["OUTREACH_TEST_MAIL_DIR"])
        self.delay = float(os.environ.get("OUTREACH_TEST_SEND_DELAY", "0"))

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        (self.folder / f"started-{os.getpid()}").touch()
        time.sleep(self.delay)
        for message in messages:
            (self.folder / f"{uuid.uuid4().hex}.eml").write_bytes(message.message().as_bytes())
        return len(messages)


def _sent_count(reminder):
    return ReminderDelivery.objects.filter(reminder=reminder).count()


# --- The schedule -------------------------------------------------------------------------


def test_the_scan_runs_from_the_beat_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["scan-reminders"]
    assert entry["task"] == scan_reminders.name
    assert scan_reminders.name in celery_app.tasks
    # Every 15 minutes: a digest is at most a quarter of an hour late.
    assert entry["schedule"].minute == {0, 15, 30, 45}


def test_every_delivery_task_acks_late():
    from outreach import tasks

    for task in (tasks.deliver_reminder, tasks.send_digest, tasks.send_campaign_batch):
        assert task.acks_late


# --- Concurrency and crashes --------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_send_each_reminder_once(real_worker, redis_url_if_ci, settings):
    require(connection.vendor == "postgresql", "concurrent scans need PostgreSQL")
    settings.EMAIL_BACKEND = "tests.test_reminder_reliability.SlowBackend"
    _due_follow_ups(6, username="amina")
    barrier = threading.Barrier(2)
    errors = []

    def scan():
        try:
            barrier.wait()
            scan_reminders()  # the task's body, here; its deliveries go to the real worker
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Reminder.objects.count() == 6
    assert _wait_for(lambda: not Reminder.objects.exclude(status="sent").exists(), 30)
    # Give any duplicate task time to (wrongly) send.
    scan_reminders()
    time.sleep(1.5)
    assert len(mail.outbox) == 6
    assert ReminderDelivery.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_reminder_send_it_once(settings):
    require(connection.vendor == "postgresql", "concurrent workers need PostgreSQL")
    settings.EMAIL_BACKEND = "tests.test_reminder_reliability.SlowBackend"
    _due_follow_ups(1)
    services.reminders_create_due()
    reminder = Reminder.objects.get()
    outcomes = []
    barrier = threading.Barrier(3)

    def deliver():
        barrier.wait()
        try:
            outcomes.append(services.reminder_deliver(reminder_id=reminder.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["sent", "skipped", "skipped"]
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_scan_rerun_after_a_crash_sends_what_was_cut_short_exactly_once():
    _due_follow_ups(2, username="amina")
    services.reminders_create_due()
    cut_short, already_sent = Reminder.objects.order_by("pk")
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    # A worker died while sending the first: the row says "sending", nothing was recorded.
    Reminder.objects.filter(pk=cut_short.pk).update(
        status="sending", claimed_at=long_ago, claim_token=uuid.uuid4()
    )
    # The second was sent and recorded, but its status never caught up.
    Reminder.objects.filter(pk=already_sent.pk).update(
        status="sending", claimed_at=long_ago, claim_token=uuid.uuid4()
    )
    ReminderDelivery.objects.create(reminder=already_sent, kind="immediate", to_email="x@y.org")

    scan_reminders.delay()
    scan_reminders.delay()

    assert [m.to for m in mail.outbox] == [[cut_short.recipient.email]]
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent"}
    assert _sent_count(cut_short) == 1 and _sent_count(already_sent) == 1


@pytest.mark.django_db
def test_a_row_still_within_its_lease_is_left_to_its_worker():
    _due_follow_ups(1)
    services.reminders_create_due()
    Reminder.objects.update(status="sending", claimed_at=timezone.now(), claim_token=uuid.uuid4())
    scan_reminders.delay()
    assert mail.outbox == []
    assert services.reminder_deliver(reminder_id=Reminder.objects.get().pk) == "skipped"


# --- Broker outage --------------------------------------------------------------------------


@contextmanager
def _broker_down():
    """Point the app at a Redis nobody listens on, as when the broker is stopped."""
    conf = celery_app.conf
    saved = (
        conf.broker_url,
        conf.broker_write_url,
        conf.task_always_eager,
        dict(conf.broker_transport_options or {}),
    )

    def reset_pools():
        # Forget the cached connections so the next publish connects to the current URL.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    reset_pools()
    conf.broker_url = conf.broker_write_url = "redis://127.0.0.1:1/0"
    conf.broker_transport_options = {"socket_connect_timeout": 2, "socket_timeout": 5}
    conf.task_always_eager = False
    try:
        yield
    finally:
        reset_pools()
        (
            conf.broker_url,
            conf.broker_write_url,
            conf.task_always_eager,
            conf.broker_transport_options,
        ) = saved


@pytest.mark.django_db
def test_with_the_broker_down_a_send_answers_promptly_and_the_next_scan_delivers(
    manager_client, manager_user, django_capture_on_commit_callbacks
):
    ContactFactory()
    ContactFactory()
    campaign = Campaign.objects.create(
        name="News", subject="News", body="Hello {{ first_name }}", created_by=manager_user
    )
    with _broker_down():
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            response = manager_client.post(reverse("outreach:campaign_send", args=[campaign.pk]))
        elapsed = time.monotonic() - started
    assert response.status_code == 302
    assert elapsed < 8, f"the request took {elapsed:.1f} s"
    # The work is in the database, not lost with the message that could not be queued.
    assert CampaignRecipient.objects.filter(status="queued").count() == 2
    assert mail.outbox == []

    scan_reminders.delay()  # the broker is back: the next scheduled scan
    assert len(mail.outbox) == 2
    assert Campaign.objects.get().status == Campaign.Status.SENT


@pytest.mark.django_db
def test_with_the_broker_down_a_retried_reminder_waits_for_the_next_scan(
    manager_client, django_capture_on_commit_callbacks
):
    _due_follow_ups(1, email="")
    services.reminders_run()
    reminder = Reminder.objects.get()
    assert reminder.status == "failed"
    reminder.recipient.email = "fixed@mmc.example"
    reminder.recipient.save()
    with _broker_down():
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            response = manager_client.post(reverse("outreach:reminder_retry", args=[reminder.pk]))
        assert time.monotonic() - started < 8
    assert response.status_code == 302
    reminder.refresh_from_db()
    assert reminder.status == "pending" and mail.outbox == []
    scan_reminders.delay()
    assert [m.to for m in mail.outbox] == [["fixed@mmc.example"]]


@pytest.mark.django_db
def test_a_scan_with_the_broker_down_gives_up_quickly_and_loses_nothing():
    _due_follow_ups(5)
    with _broker_down():
        started = time.monotonic()
        summary = scan_reminders()  # the task's body, as a worker would run it
        elapsed = time.monotonic() - started
    # One failed publish, not one connect timeout per reminder.
    assert elapsed < 8, f"the scan took {elapsed:.1f} s"
    assert summary["created"] == 5 and mail.outbox == []
    assert Reminder.objects.filter(status="pending", enqueued_at__isnull=True).count() == 5
    scan_reminders.delay()  # the next scan, broker back
    assert len(mail.outbox) == 5


# --- SMTP errors ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_temporary_smtp_error_is_retried_with_exponential_backoff(settings):
    settings.EMAIL_BACKEND = "tests.test_reminder_reliability.FlakyBackend"
    settings.REMINDER_RETRY_BASE_SECONDS = 60
    FlakyBackend.calls, FlakyBackend.failures = 0, 2
    _due_follow_ups(1)
    services.reminders_create_due()
    reminder = Reminder.objects.get()
    t0 = timezone.now()

    with pytest.raises(services.DeliveryDeferred) as first:
        services.reminder_deliver(reminder_id=reminder.pk, now=t0)
    assert first.value.retry_in == 60
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("pending", 1)
    assert "unexpectedly closed" in reminder.last_error
    # Not due again before the backoff has passed...
    assert (
        reminder.pk
        not in services.reminders_due_for_delivery(
            now=t0 + datetime.timedelta(seconds=30)
        ).reminder_ids
    )
    later = t0 + datetime.timedelta(seconds=61)
    assert reminder.pk in services.reminders_due_for_delivery(now=later).reminder_ids
    with pytest.raises(services.DeliveryDeferred) as second:
        services.reminder_deliver(reminder_id=reminder.pk, now=later)
    assert second.value.retry_in == 120  # doubled
    assert (
        services.reminder_deliver(
            reminder_id=reminder.pk, now=later + datetime.timedelta(seconds=121)
        )
        == "sent"
    )
    assert len(mail.outbox) == 1
    assert _sent_count(reminder) == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_worker_retries_an_smtp_error_and_delivers_once(real_worker, redis_url_if_ci, settings):
    settings.EMAIL_BACKEND = "tests.test_reminder_reliability.FlakyBackend"
    settings.REMINDER_RETRY_BASE_SECONDS = 1
    FlakyBackend.calls, FlakyBackend.failures = 0, 2
    _due_follow_ups(1)
    services.reminders_create_due()
    reminder = Reminder.objects.get()
    deliver_reminder.delay(reminder.pk)
    assert _wait_for(lambda: Reminder.objects.get().status == "sent", 30)
    reminder.refresh_from_db()
    assert reminder.attempts == 2  # two failed tries before the one that worked
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_refused_address_fails_at_once_is_never_retried_and_managers_see_it(
    settings, manager_client
):
    settings.EMAIL_BACKEND = "tests.test_reminder_reliability.RefusingBackend"
    _due_follow_ups(1, email="gone@nowhere.example")
    assert services.reminders_run() == (1, 0, 1)
    reminder = Reminder.objects.get()
    assert reminder.status == "failed" and "User unknown" in reminder.last_error
    assert services.reminders_run() == (0, 0, 0)
    assert Reminder.objects.get().attempts == 1
    page = manager_client.get(reverse("outreach:failed_deliveries")).content.decode()
    assert reminder.title in page and "User unknown" in page


@pytest.mark.django_db
def test_an_address_that_keeps_failing_is_failed_after_the_last_attempt(settings):
    settings.EMAIL_BACKEND = "tests.test_reminder_reliability.FlakyBackend"
    settings.REMINDER_MAX_ATTEMPTS = 3
    FlakyBackend.calls, FlakyBackend.failures = 0, 100
    _due_follow_ups(1)
    services.reminders_create_due()
    reminder = Reminder.objects.get()
    now = timezone.now()
    for attempt in (1, 2):
        with pytest.raises(services.DeliveryDeferred):
            services.reminder_deliver(reminder_id=reminder.pk, now=now)
        now += datetime.timedelta(hours=attempt)
    # The row's attempt count, not the task's, stops it: it survives a worker restart.
    assert services.reminder_deliver(reminder_id=reminder.pk, now=now) == "failed"
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("failed", 3)
    assert FlakyBackend.calls == 3
    assert mail.outbox == []
    assert (
        reminder.pk
        not in services.reminders_due_for_delivery(
            now=now + datetime.timedelta(days=1)
        ).reminder_ids
    )


# --- Transactions ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_sends_nothing():
    manager = UserFactory(username="priya")
    ContactFactory()
    campaign = Campaign.objects.create(name="N", subject="S", body="B", created_by=manager)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.campaign_send(campaign=campaign)
        raise RuntimeError("something later in the request failed")
    assert mail.outbox == []
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert not CampaignRecipient.objects.exists()

    # The same call, committed, sends (after the commit).
    services.campaign_send(campaign=campaign)
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_retry_sends_nothing():
    _due_follow_ups(1, email="")
    services.reminders_run()
    reminder = Reminder.objects.get()
    reminder.recipient.email = "fixed@mmc.example"
    reminder.recipient.save()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.reminder_retry(reminder=reminder)
        raise RuntimeError
    assert mail.outbox == []
    assert Reminder.objects.get().status == "failed"


# --- A worker killed mid-delivery -----------------------------------------------------------


def _database_url():
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(queue, mail_dir, delay):
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "EMAIL_BACKEND": "tests.test_reminder_reliability.SlowFileBackend",
        "OUTREACH_TEST_MAIL_DIR": str(mail_dir),
        "OUTREACH_TEST_SEND_DELAY": str(delay),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("EMAIL_HOST", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--queues",
            queue,
            "--loglevel",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_delivers_once_after_restart(
    redis_url_if_ci, settings, tmp_path
):
    require(
        connection.vendor == "postgresql", "a worker process needs a shared PostgreSQL database"
    )
    _due_follow_ups(1, email="amina@mmc.example")
    services.reminders_create_due()
    reminder = Reminder.objects.get()
    emails = lambda: list(tmp_path.glob("*.eml"))  # noqa: E731

    with _queue_of_its_own() as queue:
        first = _start_worker(queue, tmp_path, delay=120)
        try:
            deliver_reminder.delay(reminder.pk)
            assert _wait_for(lambda: any(tmp_path.glob("started-*")), 60), "worker never started"
            assert Reminder.objects.get().status == "sending"
            first.send_signal(signal.SIGKILL)  # mid-send, nothing acknowledged or committed
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        assert emails() == []
        killed = Reminder.objects.get()
        assert killed.status == "sending" and _sent_count(killed) == 0  # not lost, not sent

        second = _start_worker(queue, tmp_path, delay=0)
        try:
            # After the lease, the next scheduled scan takes the row back and queues it again.
            settings.REMINDER_LEASE_SECONDS = 1
            time.sleep(1.5)
            summary = scan_reminders()
            assert summary["reclaimed"] == 1
            assert _wait_for(lambda: Reminder.objects.get().status == "sent", 60)
            # The broker redelivering the killed task later finds nothing left to do.
            deliver_reminder.delay(reminder.pk)
            scan_reminders()
            time.sleep(3)
        finally:
            second.terminate()
            second.wait(20)
    assert len(emails()) == 1
    assert _sent_count(reminder) == 1
    assert b"amina@mmc.example" in emails()[0].read_bytes()
