"""Reminder rules, delivery by email and in the app, preferences and digests."""

import datetime
import io

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.core.roles import MANAGER
from engagements.models import Participation, TARequest
from outreach.models import NotificationPreference, Reminder, ReminderDelivery, Rule
from outreach.services import reminders_create_due, reminders_run
from pledges.models import Pledge

from .conftest import user_with_role
from .factories import (
    BoardSeatFactory,
    EngagementFactory,
    EventFactory,
    ParticipationFactory,
    PledgeFactory,
    TARequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 10)
days = datetime.timedelta


def _keys(rule=None):
    reminders = Reminder.objects.all() if rule is None else Reminder.objects.filter(rule=rule)
    return sorted((r.rule, r.object_id, r.due_date, r.recipient.username) for r in reminders)


# --- Rules ----------------------------------------------------------------------------------


def test_follow_up_due_today_or_overdue_reminds_its_owner_once():
    owner = UserFactory(username="amina")
    today = EngagementFactory(owner=owner, follow_up_date=TODAY, summary="Call Bogotá")
    late = EngagementFactory(owner=owner, follow_up_date=TODAY - days(5))
    EngagementFactory(owner=owner, follow_up_date=TODAY + days(1))  # not yet
    EngagementFactory(owner=owner, follow_up_date=TODAY - days(2), follow_up_done=True)
    EngagementFactory(owner=owner)  # no follow-up

    assert reminders_create_due(today=TODAY) == 2
    assert _keys() == sorted(
        [
            ("follow_up", today.pk, TODAY, "amina"),
            ("follow_up", late.pk, TODAY - days(5), "amina"),
        ]
    )
    reminder = Reminder.objects.get(object_id=today.pk)
    assert reminder.title == "Follow up: Call Bogotá"
    assert reminder.link == today.get_absolute_url()
    # A second scan the same day makes nothing new; the next day only what became due.
    assert reminders_create_due(today=TODAY) == 0
    assert reminders_create_due(today=TODAY + days(1)) == 1
    assert reminders_create_due(today=TODAY + days(1)) == 0
    assert Reminder.objects.count() == 3


def test_moving_a_follow_up_date_makes_a_new_reminder():
    engagement = EngagementFactory(follow_up_date=TODAY)
    reminders_create_due(today=TODAY)
    engagement.follow_up_date = TODAY + days(3)
    engagement.save()
    assert reminders_create_due(today=TODAY + days(3)) == 1
    assert Reminder.objects.filter(object_id=engagement.pk).count() == 2


def test_ta_request_due_soon_reminds_the_owner_and_a_week_late_also_managers():
    owner = UserFactory(username="lucas")
    manager = user_with_role(MANAGER, username="priya")
    user_with_role(MANAGER, username="jon", is_active=False)  # left the team
    soon = TARequestFactory(owner=owner, due_date=TODAY + days(3))
    TARequestFactory(owner=owner, due_date=TODAY + days(4))  # not yet
    late = TARequestFactory(owner=owner, due_date=TODAY - days(7))
    slightly_late = TARequestFactory(owner=owner, due_date=TODAY - days(6))
    closed = TARequestFactory(owner=owner, due_date=TODAY - days(30))
    TARequest.objects.filter(pk=closed.pk).update(status=TARequest.Status.DELIVERED)

    reminders_create_due(today=TODAY)

    assert _keys(Rule.TA_DUE) == sorted(
        [
            ("ta_due", soon.pk, soon.due_date, "lucas"),
            ("ta_due", late.pk, late.due_date, "lucas"),
            ("ta_due", slightly_late.pk, slightly_late.due_date, "lucas"),
        ]
    )
    assert _keys(Rule.TA_ESCALATION) == [("ta_escalation", late.pk, late.due_date, "priya")]
    assert "7 days late" in Reminder.objects.get(rule=Rule.TA_ESCALATION, recipient=manager).title


def test_pledge_without_progress_for_six_months_gets_a_check_in():
    owner = UserFactory(username="sofia")
    stale = PledgeFactory(owner=owner, announced_on=TODAY - days(400))
    Pledge.objects.filter(pk=stale.pk).update(last_update_on=TODAY - days(200))
    never_updated = PledgeFactory(owner=owner, announced_on=TODAY - days(190))
    fresh = PledgeFactory(owner=owner, announced_on=TODAY - days(400))
    Pledge.objects.filter(pk=fresh.pk).update(last_update_on=TODAY - days(30))
    achieved = PledgeFactory(owner=owner, announced_on=TODAY - days(400))
    Pledge.objects.filter(pk=achieved.pk).update(
        status=Pledge.Status.ACHIEVED, progress_percent=100
    )

    reminders_create_due(today=TODAY)

    assert _keys() == sorted(
        [
            ("pledge_check_in", stale.pk, TODAY - days(200) + days(182), "sofia"),
            ("pledge_check_in", never_updated.pk, TODAY - days(190) + days(182), "sofia"),
        ]
    )


def test_board_seat_ending_within_60_days_reminds_every_manager():
    user_with_role(MANAGER, username="priya")
    user_with_role(MANAGER, username="jon")
    UserFactory(username="amina")  # staff are not told
    ending = BoardSeatFactory(start_date=TODAY - days(700), end_date=TODAY + days(60))
    BoardSeatFactory(start_date=TODAY - days(600), end_date=TODAY + days(61))
    BoardSeatFactory(start_date=TODAY - days(800), end_date=TODAY - days(1))  # ended

    reminders_create_due(today=TODAY)

    assert _keys() == sorted(
        [
            ("board_seat_ending", ending.pk, ending.end_date, "jon"),
            ("board_seat_ending", ending.pk, ending.end_date, "priya"),
        ]
    )


def test_event_deadline_reminds_owners_of_planned_participations_once_each():
    amina, lucas, sofia = (UserFactory(username=n) for n in ("amina", "lucas", "sofia"))
    event = EventFactory(name="GFMD 2026", registration_deadline=TODAY + days(14))
    ParticipationFactory(event=event, owner=amina)
    ParticipationFactory(event=event, owner=amina)  # two cities, one reminder
    ParticipationFactory(event=event, owner=lucas)
    ParticipationFactory(event=event, owner=sofia, status=Participation.Status.CONFIRMED)
    later = EventFactory(registration_deadline=TODAY + days(15))
    ParticipationFactory(event=later, owner=amina)

    reminders_create_due(today=TODAY)

    assert _keys() == sorted(
        [
            ("event_deadline", event.pk, event.registration_deadline, "amina"),
            ("event_deadline", event.pk, event.registration_deadline, "lucas"),
        ]
    )
    assert Reminder.objects.first().title.startswith("Registration for GFMD 2026 closes")


def test_thresholds_come_from_settings(settings):
    settings.REMINDER_EVENT_DEADLINE_DAYS = 30
    event = EventFactory(registration_deadline=TODAY + days(25))
    ParticipationFactory(event=event, owner=UserFactory())
    assert reminders_create_due(today=TODAY) == 1


# --- Delivery ---------------------------------------------------------------------------------


def test_immediate_email_has_text_html_and_a_link_to_the_record(settings):
    settings.SITE_URL = "https://crm.example.org"
    owner = UserFactory(username="amina", email="amina@mmc.example", first_name="Amina")
    engagement = EngagementFactory(owner=owner, follow_up_date=TODAY, summary="Send MoU draft")

    result = reminders_run(today=TODAY)

    assert result == (1, 1, 0)
    [message] = mail.outbox
    assert message.to == ["amina@mmc.example"]
    assert "Send MoU draft" in message.subject
    link = f"https://crm.example.org{engagement.get_absolute_url()}"
    assert link in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{link}"' in html
    reminder = Reminder.objects.get()
    assert reminder.status == Reminder.Status.SENT
    assert ReminderDelivery.objects.get(reminder=reminder).to_email == "amina@mmc.example"


def test_muted_rule_is_recorded_and_shown_but_not_emailed(client):
    owner = UserFactory(username="amina")
    NotificationPreference.objects.create(user=owner, muted_rules=[Rule.FOLLOW_UP])
    EngagementFactory(owner=owner, follow_up_date=TODAY)
    pledge = PledgeFactory(owner=owner, announced_on=TODAY - days(300))

    reminders_run(today=TODAY)

    assert [m.subject for m in mail.outbox] == [
        f"Reminder: {Reminder.objects.get(object_id=pledge.pk, rule=Rule.PLEDGE_CHECK_IN).title}"
    ]
    assert Reminder.objects.get(rule=Rule.FOLLOW_UP).status == Reminder.Status.MUTED
    client.force_login(owner)
    response = client.get(reverse("outreach:notifications"))
    assert response.context["paginator"].count == 2


def test_user_without_email_is_failed_not_retried():
    owner = UserFactory(username="noemail", email="")
    EngagementFactory(owner=owner, follow_up_date=TODAY)
    assert reminders_run(today=TODAY) == (1, 0, 1)
    reminder = Reminder.objects.get()
    assert reminder.status == Reminder.Status.FAILED
    assert "no email address" in reminder.last_error
    assert reminders_run(today=TODAY) == (0, 0, 0)


def test_digest_goes_out_once_at_the_users_local_morning():
    owner = UserFactory(username="lucas", email="lucas@mmc.example")
    NotificationPreference.objects.create(
        user=owner,
        delivery=NotificationPreference.Delivery.DIGEST,
        time_zone="Asia/Tokyo",
        digest_hour=8,
    )
    EngagementFactory(owner=owner, follow_up_date=TODAY, summary="First")
    EngagementFactory(owner=owner, follow_up_date=TODAY - days(1), summary="Second")
    # 22:30 UTC on the 9th is 07:30 on the 10th in Tokyo: too early.
    early = datetime.datetime(2026, 3, 9, 22, 30, tzinfo=datetime.UTC)
    assert reminders_run(now=early, today=TODAY) == (2, 0, 0)
    assert mail.outbox == []
    # 23:05 UTC is 08:05 in Tokyo: one email carrying both.
    morning = datetime.datetime(2026, 3, 9, 23, 5, tzinfo=datetime.UTC)
    assert reminders_run(now=morning, today=TODAY) == (0, 2, 0)
    [digest] = mail.outbox
    assert digest.subject == "Your MMC CRM digest: 2 reminders"
    assert "First" in digest.body and "Second" in digest.body
    assert "Tuesday 10 March 2026" in digest.body
    # Later the same morning nothing more; a new reminder waits for the next morning.
    EngagementFactory(owner=owner, follow_up_date=TODAY, summary="Third")
    assert reminders_run(now=morning + days(hours=3), today=TODAY) == (1, 0, 0)
    assert len(mail.outbox) == 1
    assert reminders_run(now=morning + days(days=1), today=TODAY) == (0, 1, 0)
    assert "Third" in mail.outbox[1].body
    assert ReminderDelivery.objects.filter(kind="digest").count() == 3


def test_send_reminders_command_runs_every_rule_and_prints_one_line():
    owner = UserFactory(username="amina")
    manager = user_with_role(MANAGER, username="priya")
    EngagementFactory(owner=owner, follow_up_date=timezone.localdate())
    BoardSeatFactory(end_date=timezone.localdate() + days(10))
    UserFactory(username="refused", email="")
    EngagementFactory(
        owner=UserFactory(username="ghost", email=""), follow_up_date=timezone.localdate()
    )

    out = io.StringIO()
    call_command("send_reminders", stdout=out)
    assert out.getvalue().strip() == "created=3 sent=2 failed=1"
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, manager.email])

    out = io.StringIO()
    call_command("send_reminders", stdout=out)
    assert out.getvalue().strip() == "created=0 sent=0 failed=0"
    assert len(mail.outbox) == 2


# --- Pages ------------------------------------------------------------------------------------


def _reminders_for(user, count):
    for _ in range(count):
        EngagementFactory(owner=user, follow_up_date=TODAY)
    reminders_create_due(today=TODAY)


def test_notifications_page_lists_only_my_reminders_with_the_unread_count(client):
    me = user_with_role("Program staff", username="amina")
    other = UserFactory(username="lucas")
    _reminders_for(me, 3)
    _reminders_for(other, 2)
    client.force_login(me)

    response = client.get(reverse("outreach:notifications"))
    assert response.status_code == 200
    assert {r.recipient for r in response.context["object_list"]} == {me}
    assert response.context["unread_count"] == 3
    badge = client.get(reverse("outreach:unread_badge"))
    assert 'data-testid="unread-count">3<' in badge.content.decode()

    first = Reminder.objects.filter(recipient=me).first()
    client.post(reverse("outreach:notifications_read"), {"reminder": first.pk})
    assert client.get(reverse("outreach:notifications")).context["unread_count"] == 2
    unread = client.get(reverse("outreach:notifications"), {"unread": "true"})
    assert first not in unread.context["object_list"]

    # Opening a notification marks it read and goes to the record.
    second = Reminder.objects.filter(recipient=me, read_at__isnull=True).first()
    response = client.get(reverse("outreach:notification_open", args=[second.pk]))
    assert response.status_code == 302 and response["Location"] == second.link
    client.post(reverse("outreach:notifications_read"))
    assert (
        'data-testid="unread-count"'
        not in client.get(reverse("outreach:unread_badge")).content.decode()
    )


def test_someone_elses_notification_cannot_be_opened_or_marked(client):
    me = UserFactory(username="amina")
    other = UserFactory(username="lucas")
    _reminders_for(other, 1)
    theirs = Reminder.objects.get()
    client.force_login(me)
    assert client.get(reverse("outreach:notification_open", args=[theirs.pk])).status_code == 404
    client.post(reverse("outreach:notifications_read"), {"reminder": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("rows", [5, 50])
def test_notification_list_queries_are_bounded(client, django_assert_max_num_queries, rows):
    me = UserFactory(username="amina")
    _reminders_for(me, rows)
    client.force_login(me)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("outreach:notifications"), {"per_page": 50})
    assert len(response.context["object_list"]) == min(rows, 25)


def test_preferences_page_saves_digest_time_zone_and_muted_rules(client):
    me = UserFactory(username="amina")
    client.force_login(me)
    assert client.get(reverse("outreach:preferences")).status_code == 200
    assert not NotificationPreference.objects.exists()  # looking changes nothing
    response = client.post(
        reverse("outreach:preferences"),
        {
            "delivery": "digest",
            "time_zone": "America/Bogota",
            "digest_hour": "7",
            "muted_rules": ["pledge_check_in", "event_deadline"],
        },
    )
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=me)
    assert (preference.delivery, preference.time_zone, preference.digest_hour) == (
        "digest",
        "America/Bogota",
        7,
    )
    assert sorted(preference.muted_rules) == ["event_deadline", "pledge_check_in"]


def test_preferences_refuse_an_unknown_time_zone_and_keep_the_old_choice(client):
    me = UserFactory(username="amina")
    NotificationPreference.objects.create(user=me, time_zone="Europe/Zurich")
    client.force_login(me)
    response = client.post(
        reverse("outreach:preferences"),
        {"delivery": "digest", "time_zone": "Mars/Olympus", "digest_hour": "25"},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"time_zone", "digest_hour"}
    assert NotificationPreference.objects.get(user=me).time_zone == "Europe/Zurich"


def test_failed_deliveries_are_shown_to_managers_who_can_retry(
    manager_client, django_capture_on_commit_callbacks
):
    owner = UserFactory(username="ghost", email="")
    EngagementFactory(owner=owner, follow_up_date=TODAY, summary="Lost follow-up")
    reminders_run(today=TODAY)
    reminder = Reminder.objects.get()

    staff = Client()
    staff.force_login(user_with_role("Program staff", username="amina"))
    assert staff.get(reverse("outreach:failed_deliveries")).status_code == 403

    response = manager_client.get(reverse("outreach:failed_deliveries"))
    assert "Lost follow-up" in response.content.decode()
    assert "no email address" in response.content.decode()

    owner.email = "ghost@mmc.example"
    owner.save()
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("outreach:reminder_retry", args=[reminder.pk]))
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT
    assert mail.outbox[0].to == ["ghost@mmc.example"]


def test_menu_shows_campaigns_and_failures_to_managers_only(manager_client):
    client = Client()
    client.force_login(user_with_role("Program staff", username="amina"))
    staff_links = [
        link["label"]
        for group in client.get(reverse("outreach:notifications")).context["main_menu"]
        for link in group["links"]
    ]
    assert "Notifications" in staff_links and "Preferences" in staff_links
    assert "Campaigns" not in staff_links and "Failed deliveries" not in staff_links
    manager_links = [
        link["label"]
        for group in manager_client.get(reverse("outreach:notifications")).context["main_menu"]
        for link in group["links"]
    ]
    assert {"Campaigns", "Failed deliveries"} <= set(manager_links)


def test_the_bell_is_in_the_navigation_of_every_page(staff_client):
    html = staff_client.get(reverse("home")).content.decode()
    assert 'data-testid="notification-bell"' in html
    assert reverse("outreach:unread_badge") in html


def test_demo_seed_is_idempotent_and_leaves_notifications(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    from outreach import demo
    from outreach.models import Campaign

    call_command("seed_demo", stdout=io.StringIO())
    reminders = Reminder.objects.count()
    preferences = NotificationPreference.objects.count()
    assert Campaign.objects.filter(status="draft").count() == 1
    assert preferences == 5
    demo.seed(scale=0, stdout=io.StringIO())
    assert Reminder.objects.count() == reminders
    assert NotificationPreference.objects.count() == preferences
    assert Campaign.objects.count() == 1
    assert Group.objects.get(name=MANAGER).user_set.exists()


@time_machine.travel(datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.UTC), tick=False)
def test_the_scan_task_creates_and_delivers(settings):
    from outreach.tasks import scan_reminders

    owner = UserFactory(username="amina")
    EngagementFactory(owner=owner, follow_up_date=TODAY)
    summary = scan_reminders.delay().get()
    assert summary["created"] == 1 and summary["queued"] == 1
    assert len(mail.outbox) == 1
    assert scan_reminders.delay().get()["queued"] == 0
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("rows", [5, 50])
def test_failed_deliveries_queries_are_bounded(manager_client, django_assert_max_num_queries, rows):
    for i in range(rows):
        owner = UserFactory(username=f"noemail{i}", email="")
        EngagementFactory(owner=owner, follow_up_date=TODAY)
    reminders_run(today=TODAY)
    assert Reminder.objects.filter(status="failed").count() == rows
    with django_assert_max_num_queries(10):
        response = manager_client.get(reverse("outreach:failed_deliveries"), {"per_page": 50})
    assert response.context["paginator"].count == rows
    with django_assert_max_num_queries(10):
        manager_client.get(reverse("outreach:failed_deliveries"), {"kind": "campaign"})


def test_a_reminder_no_longer_due_is_not_emailed_but_stays_listed():
    owner = UserFactory(username="lucas")
    NotificationPreference.objects.create(
        user=owner, delivery="digest", time_zone="UTC", digest_hour=8
    )
    done = EngagementFactory(owner=owner, follow_up_date=TODAY, summary="Already handled")
    EngagementFactory(owner=owner, follow_up_date=TODAY, summary="Still to do")
    night = datetime.datetime(2026, 3, 10, 5, tzinfo=datetime.UTC)
    reminders_run(now=night, today=TODAY)  # made before dawn, waiting for the 08:00 digest
    done.follow_up_done = True
    done.save()

    morning = datetime.datetime(2026, 3, 10, 8, 5, tzinfo=datetime.UTC)
    reminders_run(now=morning, today=TODAY)

    [digest] = mail.outbox
    assert "Still to do" in digest.body and "Already handled" not in digest.body
    assert Reminder.objects.get(object_id=done.pk).status == Reminder.Status.DONE
    assert Reminder.objects.filter(recipient=owner).count() == 2
