"""Calendar feeds and "Add to calendar": parsed with icalendar, item by item."""

import datetime

import pytest
from django.urls import reverse
from icalendar import Calendar

from crm.core.roles import MANAGER
from engagements.models import Participation, TARequest
from outreach.models import CalendarFeed
from outreach.services import calendar_feed_create

from .conftest import user_with_role
from .factories import (
    BoardSeatFactory,
    CityFactory,
    ContactFactory,
    EngagementFactory,
    EventFactory,
    ParticipationFactory,
    TARequestFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date


def _items(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(item["UID"]): item for item in calendar.walk("VEVENT")}


def _day(item, name):
    value = item[name].dt
    # All-day: a date, never a moment that a time zone could move to another day.
    assert type(value) is datetime.date, f"{name} of {item['SUMMARY']} is {value!r}"
    return value


@pytest.fixture
def world(staff_user):
    lisbon, accra = CityFactory(name="Lisbon"), CityFactory(name="Accra")
    other = user_with_role("Program staff", username="other")
    maria = ContactFactory(first_name="Maria", last_name="Secret", email="maria@lisbon.example")
    follow_up = EngagementFactory(
        owner=staff_user,
        summary="Call with Lisbon",
        date=D(2030, 3, 1),
        follow_up_date=D(2030, 3, 10),
        cities=[lisbon],
        contacts=[maria],
    )
    EngagementFactory(owner=staff_user, follow_up_date=D(2030, 3, 11), follow_up_done=True)
    EngagementFactory(owner=other, summary="Not mine", follow_up_date=D(2030, 3, 12))
    ta = TARequestFactory(owner=staff_user, city=accra, topic="Data plan", due_date=D(2030, 4, 1))
    closed = TARequestFactory(owner=staff_user, due_date=D(2030, 4, 2))
    TARequest.objects.filter(pk=closed.pk).update(status=TARequest.Status.CLOSED)
    TARequestFactory(owner=other, due_date=D(2030, 4, 3))
    event = EventFactory(
        name="GFMD Summit 2030",
        start_date=D(2030, 5, 6),
        end_date=D(2030, 5, 8),
        registration_deadline=D(2030, 4, 20),
        place="Geneva",
    )
    ParticipationFactory(event=event, city=lisbon, owner=staff_user, role="speaker")
    theirs = EventFactory(name="Not my event", start_date=D(2030, 6, 1))
    ParticipationFactory(event=theirs, city=accra, owner=other)
    cancelled = EventFactory(name="Cancelled trip", start_date=D(2030, 7, 1))
    ParticipationFactory(event=cancelled, owner=staff_user, status=Participation.Status.CANCELLED)
    return {"follow_up": follow_up, "ta": ta, "event": event, "other": other, "maria": maria}


def test_the_feed_shows_my_follow_ups_ta_due_dates_events_and_deadlines_and_nothing_else(
    client, staff_user, world
):
    feed = calendar_feed_create(user=staff_user)

    items = _items(client.get(reverse("outreach:calendar_feed", args=[feed.token])))

    follow_up, ta, event = world["follow_up"], world["ta"], world["event"]
    assert set(items) == {
        f"follow-up-{follow_up.pk}@127.0.0.1",
        f"ta-due-{ta.pk}@127.0.0.1",
        f"event-{event.pk}@127.0.0.1",
        f"event-registration-{event.pk}@127.0.0.1",
    }
    item = items[f"follow-up-{follow_up.pk}@127.0.0.1"]
    assert str(item["SUMMARY"]) == "Follow up: Call with Lisbon"
    assert (_day(item, "DTSTART"), _day(item, "DTEND")) == (D(2030, 3, 10), D(2030, 3, 11))
    assert str(item["URL"]).endswith(follow_up.get_absolute_url())
    assert "Lisbon" in str(item["DESCRIPTION"])

    item = items[f"ta-due-{ta.pk}@127.0.0.1"]
    assert str(item["SUMMARY"]) == "TA due: Data plan (Accra)"
    assert (_day(item, "DTSTART"), _day(item, "DTEND")) == (D(2030, 4, 1), D(2030, 4, 2))

    item = items[f"event-{event.pk}@127.0.0.1"]
    assert str(item["SUMMARY"]) == "GFMD Summit 2030" and str(item["LOCATION"]) == "Geneva"
    # Three days, 6–8 May: the end is exclusive, so the 9th.
    assert (_day(item, "DTSTART"), _day(item, "DTEND")) == (D(2030, 5, 6), D(2030, 5, 9))
    assert "Lisbon (speaker)" in str(item["DESCRIPTION"])

    item = items[f"event-registration-{event.pk}@127.0.0.1"]
    assert str(item["SUMMARY"]) == "Registration closes: GFMD Summit 2030"
    assert (_day(item, "DTSTART"), _day(item, "DTEND")) == (D(2030, 4, 20), D(2030, 4, 21))

    for item in items.values():
        assert item["DTSTAMP"].dt.utcoffset() == datetime.timedelta(0)


def test_the_feed_carries_no_one_elses_personal_data(client, staff_user, world):
    feed = calendar_feed_create(user=staff_user)

    body = client.get(reverse("outreach:calendar_feed", args=[feed.token])).content.decode()

    assert "Secret" not in body and "maria@lisbon.example" not in body
    assert "Not mine" not in body and "Not my event" not in body


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "America/Los_Angeles"])
def test_all_day_dates_stay_on_their_day_in_any_server_time_zone(
    client, settings, staff_user, world, zone
):
    settings.TIME_ZONE = zone
    feed = calendar_feed_create(user=staff_user)

    items = _items(client.get(reverse("outreach:calendar_feed", args=[feed.token])))

    item = items[f"follow-up-{world['follow_up'].pk}@127.0.0.1"]
    assert _day(item, "DTSTART") == D(2030, 3, 10)


def test_a_change_shows_on_the_next_refresh_under_the_same_uid(client, staff_user, world):
    feed = calendar_feed_create(user=staff_user)
    url = reverse("outreach:calendar_feed", args=[feed.token])
    uid = f"follow-up-{world['follow_up'].pk}@127.0.0.1"
    assert _day(_items(client.get(url))[uid], "DTSTART") == D(2030, 3, 10)

    world["follow_up"].follow_up_date = D(2030, 3, 20)
    world["follow_up"].save()

    assert _day(_items(client.get(url))[uid], "DTSTART") == D(2030, 3, 20)
    world["follow_up"].follow_up_done = True
    world["follow_up"].save()
    assert uid not in _items(client.get(url))


def test_managers_may_add_board_seats_ending_and_staff_may_not(client):
    seat = BoardSeatFactory(end_date=D(2030, 9, 30))
    manager = user_with_role(MANAGER, username="boss")
    staff = user_with_role("Program staff", username="plain")
    for user in (manager, staff):
        feed = calendar_feed_create(user=user)
        feed.include_board_seats = True
        feed.save()

    managers = _items(client.get(manager.calendar_feed.url.removeprefix("http://127.0.0.1:8000")))
    staffs = _items(client.get(staff.calendar_feed.url.removeprefix("http://127.0.0.1:8000")))

    item = managers[f"board-seat-end-{seat.pk}@127.0.0.1"]
    assert _day(item, "DTSTART") == D(2030, 9, 30)
    assert staffs == {}


def test_the_feed_needs_no_login_but_the_token_opens_nothing_else(client, staff_user, world):
    feed = calendar_feed_create(user=staff_user)

    response = client.get(reverse("outreach:calendar_feed", args=[feed.token]))

    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    # No session came of it: every other page still asks for a login.
    for name in ("home", "outreach:preferences", "engagements:my_work"):
        assert client.get(reverse(name)).status_code == 302
    assert (
        client.get(world["follow_up"].get_absolute_url() + f"?token={feed.token}").status_code
        == 302
    )


def test_a_revoked_or_replaced_address_answers_404(client, staff_user):
    client.force_login(staff_user)
    client.post(reverse("outreach:calendar_feed_action"), {"action": "create"})
    first = CalendarFeed.objects.get(user=staff_user).token
    assert len(first) >= 40

    client.post(reverse("outreach:calendar_feed_action"), {"action": "regenerate"})
    second = CalendarFeed.objects.get(user=staff_user).token
    client.logout()

    assert second != first
    assert client.get(reverse("outreach:calendar_feed", args=[first])).status_code == 404
    assert client.get(reverse("outreach:calendar_feed", args=[second])).status_code == 200

    client.force_login(staff_user)
    client.post(reverse("outreach:calendar_feed_action"), {"action": "revoke"})
    client.logout()
    assert client.get(reverse("outreach:calendar_feed", args=[second])).status_code == 404
    assert client.get(reverse("outreach:calendar_feed", args=["guess"])).status_code == 404


def test_a_deactivated_users_feed_answers_404(client, staff_user):
    feed = calendar_feed_create(user=staff_user)
    staff_user.is_active = False
    staff_user.save()

    assert client.get(reverse("outreach:calendar_feed", args=[feed.token])).status_code == 404


def test_the_preferences_page_shows_the_feed_address(staff_client, staff_user):
    page = staff_client.get(reverse("outreach:preferences")).content.decode()
    assert 'data-testid="calendar-feed-create"' in page

    staff_client.post(reverse("outreach:calendar_feed_action"), {"action": "create"})

    page = staff_client.get(reverse("outreach:preferences")).content.decode()
    assert CalendarFeed.objects.get(user=staff_user).url in page


# --- Add to calendar ---------------------------------------------------------------------


def test_an_event_page_offers_its_ics_with_the_days_and_the_deadline(staff_client, world):
    event = world["event"]
    page = staff_client.get(event.get_absolute_url()).content.decode()
    assert reverse("engagements:event_ics", args=[event.pk]) in page

    response = staff_client.get(reverse("engagements:event_ics", args=[event.pk]))

    assert response["Content-Disposition"] == f'attachment; filename="event-{event.pk}.ics"'
    items = _items(response)
    assert set(items) == {
        f"event-{event.pk}@127.0.0.1",
        f"event-registration-{event.pk}@127.0.0.1",
    }
    item = items[f"event-{event.pk}@127.0.0.1"]
    assert (_day(item, "DTSTART"), _day(item, "DTEND")) == (D(2030, 5, 6), D(2030, 5, 9))


def test_a_follow_up_offers_its_ics_and_one_without_a_follow_up_has_none(staff_client, world):
    follow_up = world["follow_up"]
    assert "follow-up.ics" in staff_client.get(follow_up.get_absolute_url()).content.decode()

    items = _items(
        staff_client.get(reverse("engagements:engagement_follow_up_ics", args=[follow_up.pk]))
    )

    (item,) = items.values()
    assert str(item["UID"]) == f"follow-up-{follow_up.pk}@127.0.0.1"
    assert _day(item, "DTSTART") == D(2030, 3, 10)
    plain = EngagementFactory()
    url = reverse("engagements:engagement_follow_up_ics", args=[plain.pk])
    assert staff_client.get(url).status_code == 404


def test_add_to_calendar_files_need_a_login(client, world):
    url = reverse("engagements:event_ics", args=[world["event"].pk])

    assert client.get(url).status_code == 302
