"""Search everything: every kind of record, ranking, typos, accents, permissions, query count.

These run on SQLite locally and on PostgreSQL under CI: the two backends must agree. What only
PostgreSQL can show (its indexes are used, pg_trgm agrees with the Python port) is in
tests/test_search_backends.py.
"""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cities import demo as cities_demo
from crm.core.roles import MANAGER, PROGRAM_STAFF
from crm.demo import team as crm_demo
from crm.search.matching import Query, Tier, highlight, judge, similarity
from crm.search.selectors import search
from engagements import demo as engagements_demo
from outreach.models import Campaign
from pledges import demo as pledges_demo

from .conftest import user_with_role
from .factories import (
    CityFactory,
    ContactFactory,
    CountryFactory,
    EngagementFactory,
    EventFactory,
    MayoralTermFactory,
    MayorFactory,
    ParticipationFactory,
    PledgeFactory,
    PledgeUpdateFactory,
    PolicyContributionFactory,
    PolicyOutcomeFactory,
    TARequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _titles(response_or_results, kind):
    results = getattr(response_or_results, "context", None)
    groups = results["groups"] if results is not None else response_or_results.groups
    return [hit.title for group in groups if group.key == kind for hit in group.shown]


def _kinds(results):
    return [group.key for group in results.groups]


@pytest.fixture
def manager(db):
    return user_with_role(MANAGER, username="search-manager")


# --- Matching, without a database ----------------------------------------------------------


def test_words_match_in_any_order_and_across_name_parts():
    match = judge(Query.parse("sawyerr aki"), title="Yvonne Aki-Sawyerr")
    assert match.tier == Tier.NAME_WORDS
    assert judge(Query.parse("aki sawyer"), title="Yvonne Aki-Sawyerr").tier == Tier.NAME_WORDS
    assert judge(Query.parse("kiss"), title="Yvonne Aki-Sawyerr") is None


def test_exact_and_prefix_names_rank_above_words_and_body_text():
    query = Query.parse("santa")
    exact = judge(query, title="Santa")
    prefix = judge(query, title="Santa Fe")
    words = judge(query, title="Vila Santa Maria")
    body = judge(query, title="Lisbon", body=["Twinned with Santa Fe."])
    assert exact.tier > prefix.tier > words.tier > body.tier
    assert body.line == "Twinned with Santa Fe."


def test_a_typo_is_forgiven_in_names_but_not_in_free_text():
    assert judge(Query.parse("frietown"), title="Freetown").tier == Tier.TYPO
    assert judge(Query.parse("sao paolo"), title="São Paulo").tier == Tier.TYPO
    assert judge(Query.parse("shelterr"), title="Kampala", body=["A shelter plan."]) is None
    # Short words are never "typos" of each other: "ana" does not find "Anna".
    assert judge(Query.parse("ana"), title="Anna Bauer") is None


def test_trigram_similarity_is_pg_trgms():
    # Values pg_trgm's similarity() gives for the same words (see test_search_backends).
    assert similarity("frietown", "freetown") == pytest.approx(0.5)
    assert similarity("paolo", "paulo") == pytest.approx(1 / 3)
    assert similarity("word", "word") == 1.0


def test_the_matched_line_marks_the_words_that_matched():
    segments = highlight(Query.parse("shelter"), "Shared the city's shelter coordination model.")
    assert ("shelter", True) in segments
    assert "".join(text for text, _ in segments) == "Shared the city's shelter coordination model."
    long_text = "Lorem ipsum dolor sit amet. " * 20 + "The shelter opened." + " More text." * 20
    cut = highlight(Query.parse("shelter"), long_text)
    assert cut[0] == ("…", False) and cut[-1] == ("…", False)
    assert ("shelter", True) in cut


# --- Every kind of record --------------------------------------------------------------------


def test_every_kind_of_record_is_found_by_its_words(manager):
    city = CityFactory(name="Quuxtown")
    ContactFactory(first_name="Zorba", last_name="Quux", city=city)
    MayoralTermFactory(city=city, mayor=MayorFactory(full_name="Quuxine Mayor"))
    EngagementFactory(summary="Call about quux housing", cities=[city])
    TARequestFactory(city=city, topic="Quux data systems")
    event = EventFactory(name="Quux Forum 2025")
    ParticipationFactory(event=event, city=city, outcome="Presented the quux approach.")
    PolicyContributionFactory(title="Quux joint statement")
    PolicyOutcomeFactory(title="Secretary-General report", description="Cites the quux model.")
    pledge = PledgeFactory(city=city, title="Quux inclusion pledge")
    PledgeUpdateFactory(pledge=pledge, note="The quux office opened.")
    Campaign.objects.create(
        name="Autumn newsletter", subject="News", body="Quux updates.", created_by=manager
    )
    results = search(user=manager, text="quux")
    assert set(_kinds(results)) == {
        "cities",
        "contacts",
        "mayors",
        "engagements",
        "ta_requests",
        "events",
        "participations",
        "contributions",
        "outcomes",
        "pledges",
        "pledge_updates",
        "campaigns",
    }
    assert _titles(results, "participations") == ["Quuxtown at Quux Forum 2025"]
    assert _titles(results, "pledge_updates") == ["Quuxtown: Quux inclusion pledge"]


def test_results_page_groups_by_kind_best_group_first_with_links(staff_client):
    sao = CityFactory(name="São Paulo", country=CountryFactory(code="BR"), aliases="Sampa")
    engagement = EngagementFactory(summary="Workshop in São Paulo", cities=[sao])
    response = staff_client.get(reverse("crm:search"), {"q": "sao paulo"})
    groups = response.context["groups"]
    assert [g.key for g in groups] == ["cities", "engagements"]  # the exact name first
    html = response.content.decode()
    assert sao.get_absolute_url() in html
    assert engagement.get_absolute_url() in html


def test_accents_case_and_aliases_are_ignored(staff_client):
    CityFactory(name="Zürich", country=CountryFactory(code="CH"))
    sao = CityFactory(name="São Paulo", country=CountryFactory(code="BR"), aliases="Sampa\nSP")
    ContactFactory(first_name="Paula", last_name="Sá", city=sao, email="paula@sampa.example.org")
    assert _titles(staff_client.get(reverse("crm:search"), {"q": "ZURICH"}), "cities") == ["Zürich"]
    assert _titles(staff_client.get(reverse("crm:search"), {"q": "zürich"}), "cities") == ["Zürich"]
    response = staff_client.get(reverse("crm:search"), {"q": "sampa"})
    assert _titles(response, "cities") == ["São Paulo"]
    assert _titles(response, "contacts") == ["Paula Sá"]  # by the email address
    assert "<mark>sampa</mark>" in response.content.decode()


def test_typos_find_the_name(staff_client):
    CityFactory(name="Freetown", country=CountryFactory(code="SL"))
    CityFactory(name="São Paulo", country=CountryFactory(code="BR"))
    MayoralTermFactory(mayor=MayorFactory(full_name="Yvonne Aki-Sawyerr"))
    assert _titles(staff_client.get(reverse("crm:search"), {"q": "frietown"}), "cities") == [
        "Freetown"
    ]
    assert _titles(staff_client.get(reverse("crm:search"), {"q": "sao paolo"}), "cities") == [
        "São Paulo"
    ]
    assert _titles(staff_client.get(reverse("crm:search"), {"q": "aki sawyer"}), "mayors") == [
        "Yvonne Aki-Sawyerr"
    ]


def test_best_matches_first_within_a_kind(staff_client):
    CityFactory(name="Santa Fe")
    CityFactory(name="Vila Santa")
    CityFactory(name="Lisbon", notes="Twinned with Santa")
    CityFactory(name="Santa")
    CityFactory(name="Santo")  # a typo apart, below every real match
    titles = _titles(staff_client.get(reverse("crm:search"), {"q": "santa"}), "cities")
    assert titles == ["Santa", "Santa Fe", "Vila Santa", "Santo", "Lisbon"]


def test_body_text_matches_show_the_line_that_matched(staff_client):
    TARequestFactory(
        topic="Emergency protocol",
        description="The city asked for help.\nIt needs a shelter coordination protocol.",
    )
    response = staff_client.get(reverse("crm:search"), {"q": "shelter"})
    assert _titles(response, "ta_requests") == ["Emergency protocol"]
    html = response.content.decode()
    assert "It needs a <mark>shelter</mark> coordination protocol." in html


def test_newest_first_among_equal_matches(staff_client):
    today = datetime.date(2025, 6, 1)
    for days, summary in [(30, "Older climate call"), (1, "Newer climate call")]:
        EngagementFactory(summary=summary, date=today - datetime.timedelta(days=days))
    titles = _titles(staff_client.get(reverse("crm:search"), {"q": "climate"}), "engagements")
    assert titles == ["Newer climate call", "Older climate call"]


def test_nothing_found_and_too_short_queries_say_so(staff_client):
    CityFactory(name="Athens")
    response = staff_client.get(reverse("crm:search"), {"q": "atlantis"})
    assert response.context["total"] == 0
    assert "Nothing matches" in response.content.decode()
    response = staff_client.get(reverse("crm:search"), {"q": "a"})
    assert "at least two letters" in response.content.decode()


def test_many_matches_are_capped_and_link_to_the_list(staff_client):
    for n in range(12):
        CityFactory(name=f"Santa {n}")
    html = staff_client.get(reverse("crm:search"), {"q": "santa"}).content.decode()
    assert "10 of 12 shown" in html
    assert reverse("cities:city_list") + "?q=santa" in html
    capped = search(user=UserFactory(is_superuser=True), text="santa", limit=5)
    (cities,) = capped.groups
    assert (cities.count, cities.more) == (5, True)


# --- Who sees what ----------------------------------------------------------------------------


def test_search_shows_only_what_the_user_may_see(client, manager):
    CityFactory(name="Sao Tome")
    Campaign.objects.create(name="Sao newsletter", subject="s", body="b", created_by=manager)
    client.force_login(UserFactory())  # no role
    assert client.get(reverse("crm:search"), {"q": "sao"}).context["groups"] == []
    staff = user_with_role(PROGRAM_STAFF)
    assert _kinds(search(user=staff, text="sao")) == ["cities"]  # campaigns: managers only
    assert set(_kinds(search(user=manager, text="sao"))) == {"cities", "campaigns"}


def test_search_needs_a_login(client):
    response = client.get(reverse("crm:search"), {"q": "x"})
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


# --- Cost -----------------------------------------------------------------------------------


def _query_count(client, url, params):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


def test_query_count_is_the_same_for_few_and_many_matches(staff_client):
    CityFactory(name="Kigali")
    urls = (reverse("crm:search"), reverse("crm:search_suggest"))
    few = [_query_count(staff_client, url, {"q": "kigali"}) for url in urls]
    city = CityFactory(name="Kigali North")
    for n in range(30):
        EngagementFactory(summary=f"Kigali visit {n}", cities=[city])
        TARequestFactory(city=city, topic=f"Kigali topic {n}")
    many = [_query_count(staff_client, url, {"q": "kigali"}) for url in urls]
    assert few == many


# --- The demo data ----------------------------------------------------------------------------


def test_the_demo_data_answers_what_people_type(client):
    out = io.StringIO()
    for module in (crm_demo, cities_demo, engagements_demo, pledges_demo):
        module.seed(scale=0, stdout=out)
    manager = user_with_role(MANAGER, username="demo-search")

    def found(text, kind):
        return _titles(search(user=manager, text=text), kind)

    assert found("aki sawyerr", "mayors") == ["Yvonne Aki-Sawyerr"]
    assert found("frietown", "cities") == ["Freetown"]
    assert found("sao paolo", "cities") == ["São Paulo"]
    assert "GFMD Summit 2024" in found("GFMD", "events")
    assert "Applying to the Global Cities Fund" in found("Global Cities Fund", "ta_requests")
    shelter = search(user=manager, text="shelter")
    assert {"ta_requests", "participations"} <= set(_kinds(shelter))
    climate = search(user=manager, text="climate")
    assert {"events", "ta_requests", "pledges"} <= set(_kinds(climate))
