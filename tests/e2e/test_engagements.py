import datetime

import pytest
from django.utils import timezone

from crm.core.roles import MANAGER, PROGRAM_STAFF
from engagements.models import TARequest
from engagements.services import ta_request_transition

from ..conftest import user_with_role
from ..factories import (
    CityFactory,
    ContactFactory,
    EngagementFactory,
    EventFactory,
    ParticipationFactory,
    TARequestFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_log_an_engagement_with_a_follow_up_from_a_city_page(page, login, screenshot):
    user = login(PROGRAM_STAFF)
    city = CityFactory(name="São Paulo", aliases="Sao Paulo")
    ContactFactory(city=city, first_name="Rania", last_name="Haddad")
    colleague = user_with_role(PROGRAM_STAFF, username="lucas")
    # Some history so the timeline has company.
    EngagementFactory(
        cities=[city],
        owner=colleague,
        kind="dialogue",
        summary="Global dialogue on labour pathways",
        date=timezone.localdate() - datetime.timedelta(days=40),
    )
    follow_up = timezone.localdate() + datetime.timedelta(days=3)

    page.goto(city.get_absolute_url())
    page.click("[data-testid=city-log-engagement]")
    page.wait_for_selector("[data-testid=engagement-form]")
    # Today, me and the city are already filled in.
    assert page.input_value("#id_date") == timezone.localdate().isoformat()
    assert page.locator("#id_owner option:checked").inner_text() == user.get_full_name()
    assert "São Paulo" in page.locator("#id_cities-ts-control").locator("..").inner_text()

    page.select_option("#id_kind", "call")
    page.click("#id_contacts-ts-control")
    page.keyboard.type("rania")
    page.click(".ts-dropdown .option:has-text('Rania Haddad')")
    page.keyboard.press("Escape")
    page.fill("#id_summary", "Call with the inclusion office on the pledge workplan")
    page.fill("#id_outcome", "They will send the draft workplan.")
    page.fill("#id_follow_up_date", follow_up.isoformat())
    screenshot("engagement-log-form")
    page.click("button:has-text('Log engagement')")

    # Back on the city page, newest first on the timeline.
    page.wait_for_url(f"**{city.get_absolute_url()}")
    timeline = page.locator("[data-testid=timeline]")
    first = timeline.locator("li").first
    assert "Call with the inclusion office on the pledge workplan" in first.inner_text()
    assert "Rania Haddad" in first.inner_text()
    assert "Global dialogue on labour pathways" in timeline.locator("li").nth(1).inner_text()
    page.locator("[data-testid=city-engagements]").scroll_into_view_if_needed()
    screenshot("city-timeline")

    # And on "My work" (the home page), due this week, done in one click.
    today = timezone.localdate()
    EngagementFactory(
        owner=user,
        cities=[CityFactory(name="Kampala")],
        summary="Send the shelter toolkit",
        date=today - datetime.timedelta(days=10),
        follow_up_date=today - datetime.timedelta(days=2),
    )
    TARequestFactory(owner=user, city=city, topic="Designing a migrant inclusion office")
    ParticipationFactory(
        owner=user,
        city=city,
        role="speaker",
        status="confirmed",
        event=EventFactory(
            name="GFMD Mayors Mechanism thematic meeting",
            start_date=today + datetime.timedelta(days=26),
            registration_deadline=today + datetime.timedelta(days=5),
        ),
    )
    page.goto("/")
    follow_ups = page.locator("[data-testid=follow-ups]")
    assert "Call with the inclusion office" in follow_ups.inner_text()
    assert "overdue since" in follow_ups.inner_text()
    assert "Designing a migrant inclusion office" in page.inner_text("[data-testid=my-ta-requests]")
    assert "GFMD Mayors Mechanism" in page.inner_text("[data-testid=my-events]")
    screenshot("my-work")
    item = follow_ups.locator("[data-testid=follow-up]", has_text="Call with the inclusion office")
    item.locator("button:has-text('Done')").click()
    page.wait_for_selector(".alert-success")
    remaining = page.locator("[data-testid=follow-ups]").inner_text()
    assert "Call with the inclusion office" not in remaining
    assert "Send the shelter toolkit" in remaining


def test_move_a_ta_request_through_its_workflow(page, login, screenshot):
    user = login(PROGRAM_STAFF)
    manager = user_with_role(MANAGER, username="priya", first_name="Priya")
    city = CityFactory(name="Amman")
    today = timezone.localdate()
    ta = TARequestFactory(
        city=city,
        topic="Refugee labour-market integration pilot",
        owner=user,
        priority="high",
        due_date=today + datetime.timedelta(days=10),
    )
    # Other requests so every column of the board has something.
    for status_path, topic in [
        ([], "Translating city services into Arabic"),
        (["accepted", "in_progress"], "Drafting a local migration strategy"),
        (["accepted", "in_progress", "delivered"], "Costing a GRF pledge"),
        (["accepted", "in_progress", "delivered", "closed"], "Shelter coordination protocol"),
        (["declined"], "Heat-risk protection"),
    ]:
        other = TARequestFactory(topic=topic, owner=manager)
        for step in status_path:
            ta_request_transition(ta_request=other, to_status=step, by=manager)

    page.goto("/engagements/ta/board/")
    card = page.locator("[data-testid=column-received] [data-testid=ta-card]", has_text=ta.topic)
    # Only the moves allowed from "received" are offered.
    assert sorted(card.locator("button").all_inner_texts()) == ["Accept", "Decline"]
    screenshot("ta-board")
    card.locator("[data-testid=to-accepted]").click()
    page.wait_for_selector(".alert-success")
    accepted_column = page.locator("[data-testid=column-accepted]")
    assert ta.topic in accepted_column.inner_text()

    accepted_column.locator(f"a:has-text('{ta.topic}')").click()
    page.wait_for_url(f"**{ta.get_absolute_url()}")
    for step, comment in [
        ("in_progress", "Kick-off call held with the employment office."),
        ("delivered", "Guidance note sent."),
        ("closed", ""),
    ]:
        if comment:
            page.fill("textarea[name=comment]", comment)
        page.click(f"[data-testid=to-{step}]")
        page.wait_for_selector(".alert-success")
        ta.refresh_from_db()
        assert ta.status == step
        assert page.locator("[data-testid=ta-status]").inner_text() == TARequest.Status(step).label
    assert ta.delivered_on == today
    log = page.locator("[data-testid=transitions]").inner_text()
    assert "Kick-off call held with the employment office." in log
    assert "Guidance note sent." in log
    # A closed request offers no further move.
    assert page.locator("button[name=to_status]").count() == 0
    screenshot("ta-detail")
