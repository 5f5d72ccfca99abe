"""In a real browser: the calendar feed subscribed by its address, an event's .ics, and an
email waiting in the inbox logged by a reviewer."""

import datetime
from pathlib import Path

import pytest
from icalendar import Calendar

from crm.core.roles import PROGRAM_STAFF
from engagements.models import Engagement
from engagements.services import inbound_email_record

from ..factories import CityFactory, ContactFactory, EngagementFactory, EventFactory
from ..mail_samples import message

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_calendar_subscribes_by_address_and_an_event_downloads_as_ics(
    page, browser, live_server, login, screenshot
):
    user = login(PROGRAM_STAFF)
    follow_up = EngagementFactory(
        owner=user, summary="Send Lisbon the toolkit", follow_up_date=datetime.date(2030, 3, 10)
    )
    event = EventFactory(
        name="IMRF 2030",
        start_date=datetime.date(2030, 5, 6),
        end_date=datetime.date(2030, 5, 9),
        registration_deadline=datetime.date(2030, 4, 1),
    )

    page.goto("/outreach/preferences/")
    page.click("[data-testid=calendar-feed-create]")
    feed_url = page.locator("[data-testid=calendar-feed-url]").input_value()
    assert "/outreach/calendar/" in feed_url
    page.locator("#calendar").scroll_into_view_if_needed()
    screenshot("calendar-feed-preferences")
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#calendar").scroll_into_view_if_needed()
    screenshot("calendar-feed-preferences-phone")
    page.set_viewport_size({"width": 1366, "height": 768})

    # A calendar app subscribing: no session, only the address (on this live server).
    path = feed_url.split("8000", 1)[-1] if "8000" in feed_url else feed_url
    app = browser.new_context(base_url=live_server.url)
    try:
        response = app.request.get(path)
        assert response.status == 200
        feed = Calendar.from_ical(response.body())
        summaries = {str(item["SUMMARY"]) for item in feed.walk("VEVENT")}
        assert "Follow up: Send Lisbon the toolkit" in summaries
        assert app.cookies() == []
    finally:
        app.close()

    page.goto(event.get_absolute_url())
    screenshot("event-add-to-calendar")
    with page.expect_download() as download_info:
        page.click("[data-testid=event-ics]")
    download = download_info.value
    assert download.suggested_filename == f"event-{event.pk}.ics"
    ics = Calendar.from_ical(Path(download.path()).read_bytes())
    (days,) = [item for item in ics.walk("VEVENT") if str(item["SUMMARY"]) == "IMRF 2030"]
    assert days["DTSTART"].dt == datetime.date(2030, 5, 6)
    assert days["DTEND"].dt == datetime.date(2030, 5, 10)

    page.goto(follow_up.get_absolute_url())
    with page.expect_download() as download_info:
        page.click("[data-testid=follow-up-ics]")
    assert download_info.value.suggested_filename == f"follow-up-{follow_up.pk}.ics"


def test_a_reviewer_logs_an_email_from_an_unknown_sender(page, login, screenshot, settings):
    settings.MEDIA_ROOT = settings.VAR_DIR / "test-media"
    login(PROGRAM_STAFF)
    freetown = CityFactory(name="Freetown")
    ContactFactory(first_name="Maria", email="maria@freetown.example", city=freetown)
    email, _ = inbound_email_record(
        raw=message(
            sender="Kofi Mensah <kofi@accra.example>",
            to="Maria Focal <maria@freetown.example>",
            cc="crm@mmc.example",
            subject="Joining the mayors' statement",
            body="Dear Maria,\n\nAccra would like to sign the joint statement.\n\nKofi",
            attachments=[("letter.pdf", b"%PDF-1.4 letter", "application/pdf")],
        ).as_bytes()
    )

    page.goto("/engagements/inbox/")
    screenshot("inbox-list")
    page.click("text=Joining the mayors' statement")
    assert "Not sent or forwarded by a staff user" in page.locator("main").inner_text()
    screenshot("inbox-review")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("inbox-review-phone")
    page.set_viewport_size({"width": 1366, "height": 768})

    page.click("[data-testid=accept-form] button[type=submit]")
    page.wait_for_url("**/engagements/*/")
    engagement = Engagement.objects.get()
    assert engagement.summary == "Joining the mayors' statement"
    assert list(engagement.cities.all()) == [freetown]
    assert "letter.pdf" in page.locator("[data-testid=engagement-email]").inner_text()
    screenshot("engagement-from-email")
    email.refresh_from_db()
    assert email.status == "logged"
