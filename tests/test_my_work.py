import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagements.models import Participation, TARequest
from engagements.services import ta_request_transition

from .factories import (
    CityFactory,
    EngagementFactory,
    EventFactory,
    ParticipationFactory,
    TARequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 11)


@pytest.fixture(autouse=True)
def _fixed_today(time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 11, 10, 0, tzinfo=datetime.UTC), tick=False)


def days(n):
    return TODAY + datetime.timedelta(days=n)


def work_of(client):
    response = client.get(reverse("engagements:my_work"))
    assert response.status_code == 200
    return response.context["work"], response.content.decode()


def test_follow_ups_overdue_and_due_this_week_are_mine_only(staff_client, staff_user):
    overdue = EngagementFactory(
        owner=staff_user, date=days(-20), follow_up_date=days(-3), summary="Send the toolkit"
    )
    today = EngagementFactory(owner=staff_user, date=days(-2), follow_up_date=TODAY)
    in_six_days = EngagementFactory(owner=staff_user, date=days(-2), follow_up_date=days(6))
    EngagementFactory(owner=staff_user, date=days(-2), follow_up_date=days(7))  # next week
    EngagementFactory(owner=staff_user, date=days(-9), follow_up_date=days(-1), follow_up_done=True)
    EngagementFactory(date=days(-9), follow_up_date=days(-1))  # a colleague's
    work, html = work_of(staff_client)
    assert work.overdue == [overdue]
    assert work.due_week == [today, in_six_days]
    assert "Send the toolkit" in html and "overdue since" in html


def test_done_in_one_click_from_my_work(staff_client, staff_user):
    engagement = EngagementFactory(
        owner=staff_user, date=days(-20), follow_up_date=days(-3), summary="Call back Rania"
    )
    _, html = work_of(staff_client)
    action = reverse("engagements:engagement_follow_up_done", args=[engagement.pk])
    assert f'action="{action}"' in html
    response = staff_client.post(action, {"next": reverse("engagements:my_work")}, follow=True)
    assert response.context["work"].overdue == []
    assert "Follow-up done: Call back Rania" in response.content.decode()


def test_my_open_ta_requests(staff_client, staff_user):
    received = TARequestFactory(owner=staff_user, due_date=days(10))
    in_progress = TARequestFactory(owner=staff_user, due_date=days(-1), topic="Late one")
    for status in ("accepted", "in_progress"):
        ta_request_transition(ta_request=in_progress, to_status=status, by=staff_user)
    declined = TARequestFactory(owner=staff_user)
    ta_request_transition(ta_request=declined, to_status="declined", by=staff_user)
    TARequestFactory()  # a colleague's
    work, html = work_of(staff_client)
    assert work.ta_requests == [in_progress, received]  # the most urgent first
    assert in_progress.status == TARequest.Status.IN_PROGRESS
    assert "Late one" in html and "overdue" in html


def test_my_upcoming_events(staff_client, staff_user):
    soon = EventFactory(name="GFMD Summit", start_date=days(20), registration_deadline=days(5))
    running = EventFactory(name="HLPF", start_date=days(-2), end_date=days(3))
    past = EventFactory(name="COP26", start_date=days(-400))
    mine = ParticipationFactory(event=soon, owner=staff_user, city=CityFactory(name="Accra"))
    ongoing = ParticipationFactory(event=running, owner=staff_user)
    ParticipationFactory(event=past, owner=staff_user)
    ParticipationFactory(event=soon, owner=staff_user, status=Participation.Status.CANCELLED)
    ParticipationFactory(event=soon)  # a colleague prepares this one
    work, html = work_of(staff_client)
    assert work.participations == [ongoing, mine]
    assert "GFMD Summit" in html and "Accra" in html
    assert "(5 days)" in html  # the registration deadline is close


def test_nothing_to_do_says_so(staff_client):
    work, html = work_of(staff_client)
    assert work.is_empty
    assert "Nothing overdue or due this week." in html
    assert "No open TA requests." in html


def test_home_page_is_my_work(staff_client, staff_user):
    EngagementFactory(owner=staff_user, date=days(-5), follow_up_date=days(-1), summary="Ping")
    response = staff_client.get(reverse("home"))
    html = response.content.decode()
    assert "<h1" in html and ">My work</h1>" in html
    assert "Ping" in html


@pytest.mark.parametrize("page", ["engagements:my_work", "home"])
def test_my_work_queries_do_not_grow_with_rows(staff_client, staff_user, page):
    def add(n, offset):
        for i in range(n):
            EngagementFactory(
                owner=staff_user,
                cities=CityFactory.create_batch(2),
                date=days(-30),
                follow_up_date=days(-1 - (i % 3) if i % 2 else i % 7),
            )
            TARequestFactory(owner=staff_user, due_date=days(i))
            ParticipationFactory(
                owner=staff_user, event=EventFactory(name=f"E{offset + i}", start_date=days(9))
            )

    add(5, 0)
    staff_client.get(reverse(page))
    with CaptureQueriesContext(connection) as small:
        staff_client.get(reverse(page))
    add(45, 100)
    with CaptureQueriesContext(connection) as large:
        response = staff_client.get(reverse(page))
    assert len(response.context["work"].ta_requests) == 50
    assert len(large) == len(small)


def test_another_user_sees_their_own_work(client):
    someone = UserFactory()
    EngagementFactory(date=days(-5), follow_up_date=days(-1), summary="Not theirs")
    client.force_login(someone)
    work, html = work_of(client)
    assert work.is_empty and "Not theirs" not in html
