import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cities.models import Country
from engagements.models import PolicyContribution, PolicyOutcome, Process

from .factories import (
    CityFactory,
    CityNetworkFactory,
    CountryFactory,
    EventFactory,
    PolicyContributionFactory,
    PolicyOutcomeFactory,
)

pytestmark = pytest.mark.django_db


def listed(response):
    return {obj.pk for obj in response.context["object_list"]}


def test_recording_a_joint_statement_with_its_signing_cities(staff_client):
    cities = CityFactory.create_batch(3)
    event = EventFactory(name="GFMD Summit 2024", process=Process.GFMD)
    url = reverse("engagements:contribution_create") + f"?event={event.pk}"
    initial = staff_client.get(url).context["form"]
    assert str(initial["event"].value()) == str(event.pk)
    assert initial["process"].value() == Process.GFMD
    response = staff_client.post(
        url,
        {
            "kind": "joint_statement",
            "title": "Mayors' statement to the GFMD",
            "date": "2024-01-25",
            "process": "gfmd",
            "event": event.pk,
            "cities": [c.pk for c in cities],
            "link": "https://example.org/statement",
        },
    )
    contribution = PolicyContribution.objects.get()
    assert response["Location"] == contribution.get_absolute_url()
    assert set(contribution.cities.all()) == set(cities)
    html = staff_client.get(contribution.get_absolute_url()).content.decode()
    for city in cities:
        assert city.name in html


def test_signing_cities_are_kept_in_history(staff_client):
    first, second = CityFactory(name="Lyon"), CityFactory(name="Milan")
    contribution = PolicyContributionFactory(cities=[first])
    staff_client.post(
        reverse("engagements:contribution_update", args=[contribution.pk]),
        {
            "kind": contribution.kind,
            "title": contribution.title,
            "date": contribution.date.isoformat(),
            "process": contribution.process,
            "cities": [first.pk, second.pk],
        },
    )
    latest = contribution.history.first()
    assert {row.city_id for row in latest.cities.all()} == {first.pk, second.pk}
    assert {row.city_id for row in latest.prev_record.cities.all()} == {first.pk}


def test_contribution_list_filters(staff_client):
    africa = CountryFactory(code="KE", name="Kenya", region=Country.Region.AFRICA)
    nairobi = CityFactory(name="Nairobi", country=africa)
    mombasa = CityFactory(name="Mombasa", country=africa)
    network = CityNetworkFactory()
    nairobi.networks.add(network)
    statement = PolicyContributionFactory(
        title="Call to Local Action",
        kind="joint_statement",
        process=Process.IMRF,
        date=datetime.date(2022, 5, 18),
        cities=[nairobi, mombasa],
    )
    submission = PolicyContributionFactory(
        title="Submission on climate mobility",
        kind="submission",
        process=Process.COP,
        date=datetime.date(2021, 11, 2),
        cities=[CityFactory()],
    )
    url = reverse("engagements:contribution_list")
    response = staff_client.get(url, {"region": "africa"})
    assert [c.pk for c in response.context["object_list"]] == [statement.pk]  # listed once
    assert listed(staff_client.get(url, {"q": "climate"})) == {submission.pk}
    assert listed(staff_client.get(url, {"kind": "submission"})) == {submission.pk}
    assert listed(staff_client.get(url, {"process": "imrf"})) == {statement.pk}
    assert listed(staff_client.get(url, {"date_after": "2022-01-01"})) == {statement.pk}
    assert listed(staff_client.get(url, {"city": mombasa.pk})) == {statement.pk}
    assert listed(staff_client.get(url, {"network": network.pk})) == {statement.pk}
    assert response.context["object_list"][0].city_count == 2


def test_recording_an_outcome_linked_to_contributions(staff_client):
    statement = PolicyContributionFactory(title="Call to Local Action")
    response = staff_client.post(
        reverse("engagements:outcome_create"),
        {
            "title": "UN Secretary-General report cites local action",
            "date": "2022-01-10",
            "evidence_url": "https://example.org/sg-report",
            "contributions": [statement.pk],
        },
    )
    outcome = PolicyOutcome.objects.get()
    assert response["Location"] == outcome.get_absolute_url()
    assert list(outcome.contributions.all()) == [statement]
    html = staff_client.get(statement.get_absolute_url()).content.decode()
    assert "UN Secretary-General report cites local action" in html


def test_outcome_list_filters(staff_client):
    sg = PolicyOutcomeFactory(title="SG report on the GCM", date=datetime.date(2022, 1, 10))
    pd = PolicyOutcomeFactory(title="IMRF Progress Declaration", date=datetime.date(2022, 6, 7))
    url = reverse("engagements:outcome_list")
    assert listed(staff_client.get(url, {"q": "declaration"})) == {pd.pk}
    assert listed(staff_client.get(url, {"date_before": "2022-03-01"})) == {sg.pk}


def test_contribution_picker(staff_client):
    PolicyContributionFactory(title="Call to Local Action", date=datetime.date(2022, 5, 18))
    PolicyContributionFactory(title="Other")
    results = staff_client.get(reverse("engagements:contribution_picker"), {"q": "local"}).json()
    assert [r["text"] for r in results["results"]] == ["Call to Local Action (May 2022)"]


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"per_page": 50})
    assert response.status_code == 200
    return len(captured), response


@pytest.mark.parametrize("name", ["engagements:contribution_list", "engagements:outcome_list"])
def test_policy_lists_do_not_grow_with_rows(staff_client, django_assert_max_num_queries, name):
    def add(n):
        for _ in range(n):
            contribution = PolicyContributionFactory(
                cities=CityFactory.create_batch(2), event=EventFactory()
            )
            PolicyOutcomeFactory().contributions.add(contribution)

    url = reverse(name)
    add(5)
    small, _ = _queries(staff_client, url)
    add(45)
    with django_assert_max_num_queries(10):
        large, response = _queries(staff_client, url)
    assert len(response.context["object_list"]) == 50
    assert large == small


def test_detail_pages_do_not_grow_with_cities_or_contributions(staff_client):
    small = PolicyContributionFactory(cities=CityFactory.create_batch(2))
    big = PolicyContributionFactory(cities=CityFactory.create_batch(40))
    for contribution in (small, big):
        for _ in range(2 if contribution is small else 20):
            PolicyOutcomeFactory().contributions.add(contribution)
    assert (
        _queries(staff_client, small.get_absolute_url())[0]
        == _queries(staff_client, big.get_absolute_url())[0]
    )
    outcome = PolicyOutcomeFactory()
    outcome.contributions.set([small, big])
    html = _queries(staff_client, outcome.get_absolute_url())[1].content.decode()
    assert small.title in html and big.title in html and "40 cities" in html


def test_lists_annotated_with_counts_still_page_in_a_stable_order(staff_client):
    # Counting signatures groups rows, and Django then drops Meta.ordering: the base list view
    # must put it back, or rows could repeat or vanish between pages.
    for day in reversed(range(30)):  # oldest first: insertion order is not the page order
        PolicyContributionFactory(date=timezone.localdate() - datetime.timedelta(days=day))
    first = staff_client.get(reverse("engagements:contribution_list"))
    second = staff_client.get(reverse("engagements:contribution_list"), {"page": 2})
    rows = list(first.context["object_list"]) + list(second.context["object_list"])
    assert len({row.pk for row in rows}) == 30
    assert [row.date for row in rows] == sorted((row.date for row in rows), reverse=True)
