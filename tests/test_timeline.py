import datetime
import re

import pytest
from django.contrib.auth.context_processors import PermWrapper
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from engagements.models import TARequest
from engagements.selectors import city_timeline
from engagements.services import ta_request_transition

from .factories import (
    CityFactory,
    ContactFactory,
    EngagementFactory,
    EventFactory,
    ParticipationFactory,
    PledgeFactory,
    PledgeUpdateFactory,
    PolicyContributionFactory,
    TARequestFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 11)


@pytest.fixture(autouse=True)
def _fixed_today(time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 11, 10, 0, tzinfo=datetime.UTC), tick=False)


def days(n):
    return TODAY + datetime.timedelta(days=n)


def one_of_each(city, user, base=0):
    """One record of every kind the timeline merges, each on its own day, oldest first."""
    EngagementFactory(cities=[city], date=days(base - 9), summary=f"Engagement {base}")
    ta = TARequestFactory(city=city, received_on=days(base - 8), topic=f"TA {base}")
    event = EventFactory(start_date=days(base - 7), name=f"GFMD {city.pk}.{base}")
    ParticipationFactory(city=city, event=event)
    PolicyContributionFactory(cities=[city], date=days(base - 6), title=f"Statement {base}")
    pledge = PledgeFactory(city=city, announced_on=days(base - 5), title=f"Pledge {base}")
    PledgeUpdateFactory(pledge=pledge, date=days(base - 4), note=f"Update {base}")
    transition = ta_request_transition(ta_request=ta, to_status="accepted", by=user, comment="ok")
    if base:
        transition.at -= datetime.timedelta(days=-base)
        transition.save()
    return ta


def test_timeline_merges_every_kind_newest_first(staff_user):
    city = CityFactory()
    other_city = CityFactory()
    one_of_each(city, staff_user)
    one_of_each(other_city, staff_user, base=-1)  # never on the first city's timeline
    page, entries = city_timeline(city)
    assert [(e.kind, e.date) for e in entries] == [
        ("ta_transition", TODAY),
        ("pledge_update", days(-4)),
        ("pledge", days(-5)),
        ("contribution", days(-6)),
        ("participation", days(-7)),
        ("ta_request", days(-8)),
        ("engagement", days(-9)),
    ]
    assert page.paginator.count == 7
    assert entries[-1].obj.summary == "Engagement 0"
    assert entries[0].obj.to_status == TARequest.Status.ACCEPTED


def test_an_engagement_with_several_cities_is_on_each_timeline(staff_user):
    lisbon, porto = CityFactory(name="Lisbon"), CityFactory(name="Porto")
    engagement = EngagementFactory(cities=[lisbon, porto])
    for city in (lisbon, porto):
        assert [e.obj for e in city_timeline(city)[1]] == [engagement]


def test_timeline_pages_hold_the_older_entries():
    city = CityFactory()
    for i in range(20):
        EngagementFactory(cities=[city], date=days(-i), summary=f"E{i}")
    first, first_entries = city_timeline(city, 1, per_page=15)
    second, second_entries = city_timeline(city, 2, per_page=15)
    assert [e.obj.summary for e in first_entries] == [f"E{i}" for i in range(15)]
    assert [e.obj.summary for e in second_entries] == [f"E{i}" for i in range(15, 20)]
    assert first.has_next() and not second.has_next()
    # A page number out of range gives the last page rather than an error.
    assert city_timeline(city, 99, per_page=15)[0].number == 2


def render_section(user, city, query=""):
    request = RequestFactory().get(f"/cities/{city.pk}/{query}")
    request.user = user
    return render_to_string(
        "engagements/_city_section.html",
        {"city": city, "request": request, "perms": PermWrapper(user)},
        request=request,
    )


def test_section_links_every_entry_to_its_page(staff_user):
    city = CityFactory()
    ta = one_of_each(city, staff_user)
    html = render_section(staff_user, city)
    pledge = city.pledges.get()
    for url in (
        ta.get_absolute_url(),
        pledge.get_absolute_url(),
        city.engagements.get().get_absolute_url(),
        city.policy_contributions.get().get_absolute_url(),
        city.participations.get().event.get_absolute_url(),
    ):
        assert f'href="{url}"' in html
    assert "Pledge progress" in html and "Update 0" in html


def test_section_paginates_with_its_own_parameter_and_keeps_the_others(staff_user):
    city = CityFactory()
    for i in range(20):
        EngagementFactory(cities=[city], date=days(-i), summary=f"Entry number {i}")
    html = render_section(staff_user, city, "?tab=history&page=3")
    older = re.search(r'href="([^"]*)"[^>]*data-testid="timeline-older"', html).group(1)
    assert older.replace("&amp;", "&") == "?tab=history&page=3&timeline_page=2#engagements"
    second = render_section(staff_user, city, "?timeline_page=2")
    assert "Entry number 19" in second and "Entry number 0<" not in second


def test_section_lists_the_city_participations(staff_user):
    city = CityFactory()
    ParticipationFactory(city=city, event=EventFactory(name="Global Refugee Forum 2023"))
    ParticipationFactory(event=EventFactory(name="Someone else's event"))
    html = render_section(staff_user, city)
    participations = html.split('data-testid="city-participations"')[1]
    assert "Global Refugee Forum 2023" in participations
    assert "Someone else" not in participations


def _section_queries(user, city):
    render_section(user, city)  # warm caches (permissions, content types)
    with CaptureQueriesContext(connection) as captured:
        render_section(user, city)
    return len(captured)


def test_timeline_queries_are_bounded_whatever_the_history(staff_user):
    small_city, big_city = CityFactory(), CityFactory()
    for i in range(5):
        one_of_each(small_city, staff_user, base=-10 * i)
    for i in range(50):
        one_of_each(big_city, staff_user, base=-10 * i)
        EngagementFactory(
            cities=[big_city, CityFactory()],
            contacts=ContactFactory.create_batch(2),
            date=days(-1000 - i),
        )
    # Both first pages hold every kind of entry, so both load every kind.
    small = _section_queries(staff_user, small_city)
    large = _section_queries(staff_user, big_city)
    assert large == small
    # Count + page of the merged timeline, one load per kind (7) with the engagements'
    # cities and contacts, then the participations list and its total.
    assert large <= 13


def test_the_city_page_shows_the_section(staff_client, staff_user):
    city = CityFactory()
    EngagementFactory(cities=[city], summary="Dialogue on labour pathways")
    html = staff_client.get(city.get_absolute_url()).content.decode()
    assert 'data-testid="timeline"' in html
    assert "Dialogue on labour pathways" in html
