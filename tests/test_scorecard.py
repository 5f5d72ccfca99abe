import datetime

import pytest
from django.db import connection
from django.template import engines
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.dashboard.scorecard import city_scorecard
from engagements.models import Participation, Process, TARequest

from .factories import (
    CityFactory,
    EngagementFactory,
    EventFactory,
    ParticipationFactory,
    PledgeFactory,
    TARequestFactory,
)

pytestmark = pytest.mark.django_db


def _today():
    return timezone.localdate()


@pytest.fixture
def city(db):
    return CityFactory(name="Bogotá")


def _history(city, *, engagements_per_year, n_pledges, n_requests, batch=""):
    year = _today().year
    for offset, count in enumerate(engagements_per_year):
        for i in range(count):
            EngagementFactory(
                cities=[city],
                date=datetime.date(year - offset, 3, 1),
                kind="dialogue" if i == 0 else "meeting",
            )
    past = EventFactory(process=Process.IMRF, start_date=datetime.date(year - 1, 5, 1))
    upcoming = EventFactory(process=Process.COP, start_date=_today() + datetime.timedelta(9))
    ParticipationFactory(event=past, city=city, status=Participation.Status.ATTENDED)
    ParticipationFactory(event=upcoming, city=city, role=Participation.Role.SPEAKER)
    for i in range(n_pledges):
        PledgeFactory(
            city=city, title=f"Pledge {batch}{i}", status="in_progress", progress_percent=40
        )
    for i in range(n_requests):
        received = _today() - datetime.timedelta(days=100 + i)
        TARequestFactory(
            city=city,
            received_on=received,
            status=TARequest.Status.DELIVERED,
            delivered_on=received + datetime.timedelta(days=10 * (i + 1)),
        )


def _render(city, user):
    request = RequestFactory().get(city.get_absolute_url())
    request.user = user
    template = engines["django"].from_string('{% include "crm/_city_scorecard.html" %}')
    return template.render({"city": city, "request": request})


def test_scorecard_counts_engagements_per_year_participations_pledges_and_ta(city):
    _history(city, engagements_per_year=[3, 1], n_pledges=2, n_requests=3)
    EngagementFactory(cities=[CityFactory(name="Elsewhere")])  # another city's: not counted

    card = city_scorecard(city)

    year = _today().year
    assert [(row["year"], row["n"], row["dialogues"]) for row in card["per_year"]] == [
        (year, 3, 1),
        (year - 1, 1, 1),
    ]
    assert card["engagements_total"] == 4
    assert card["participations"] == {
        "total": 2,
        "attended": 1,
        "upcoming": 1,
        "processes": 2,
        "speaking": 1,
    }
    assert card["pledges_total"] == 2
    assert card["ta_total"] == 3
    assert card["ta_median_days"] == 20  # 10, 20 and 30 days


def test_scorecard_shows_on_the_city_page(staff_client, city):
    _history(city, engagements_per_year=[2], n_pledges=1, n_requests=1)

    html = staff_client.get(city.get_absolute_url()).content.decode()

    assert 'data-testid="city-scorecard"' in html
    assert "Pledge 0" in html
    assert "median 10 days to deliver" in html


def test_scorecard_of_a_new_city_says_there_is_nothing_yet(staff_user, city):
    html = _render(city, staff_user)
    assert "No engagement recorded yet." in html
    assert "No pledge yet." in html
    assert "No request yet." in html


def test_scorecard_year_links_open_the_engagements_of_that_year(staff_client, city):
    _history(city, engagements_per_year=[2, 3], n_pledges=0, n_requests=0)
    for row in city_scorecard(city)["per_year"]:
        response = staff_client.get(row["url"])
        assert response.context["paginator"].count == row["n"]


def test_scorecard_runs_a_bounded_number_of_queries(
    staff_user, city, django_assert_max_num_queries
):
    _history(city, engagements_per_year=[1], n_pledges=1, n_requests=1)
    with CaptureQueriesContext(connection) as small:
        _render(city, staff_user)

    _history(city, engagements_per_year=[10, 10, 10], n_pledges=12, n_requests=12, batch="B")
    with django_assert_max_num_queries(len(small)):
        html = _render(city, staff_user)
    assert "and 5 more" in html  # 13 pledges, 8 shown
