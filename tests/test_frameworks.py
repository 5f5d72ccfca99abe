"""Frameworks seeded by migration, and the summary of pledges by framework."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from cities.models import Country
from pledges.frameworks import ensure_frameworks
from pledges.models import Framework, Pledge
from pledges.services import pledge_add_update

from .factories import CityFactory, CountryFactory, PledgeFactory

pytestmark = pytest.mark.django_db


def gcm(number):
    return Framework.objects.get(kind=Framework.Kind.GCM_OBJECTIVE, number=number)


def achieve(pledge):
    pledge_add_update(
        pledge=pledge, date=pledge.announced_on, note="Done.", percent=100, author=None
    )


def test_the_migration_seeds_the_call_the_23_gcm_objectives_and_gcr_areas():
    call = Framework.objects.get(kind=Framework.Kind.CALL_TO_LOCAL_ACTION)
    assert call.title == "Call to Local Action for Migrants and Refugees"

    objectives = Framework.objects.filter(kind=Framework.Kind.GCM_OBJECTIVE).order_by("number")
    assert list(objectives.values_list("number", flat=True)) == list(range(1, 24))
    assert objectives[0].title.startswith("Collect and utilize accurate and disaggregated data")
    assert gcm(15).title == "Provide access to basic services for migrants"
    assert gcm(23).title.startswith("Strengthen international cooperation and global partnerships")
    assert str(gcm(16)) == "GCM 16: Inclusion and social cohesion"

    areas = set(
        Framework.objects.filter(kind=Framework.Kind.GCR_AREA).values_list("title", flat=True)
    )
    for area in ("Education", "Jobs and livelihoods", "Health", "Statelessness"):
        assert area in areas
    assert any(title.startswith("Durable solutions") for title in areas)


def test_seeding_again_adds_only_what_is_missing_and_keeps_edits():
    before = Framework.objects.count()
    retitled = gcm(5)
    retitled.title = "Regular pathways (retitled by an admin)"
    retitled.save()
    Framework.objects.filter(kind=Framework.Kind.GCR_AREA, title="Education").delete()

    ensure_frameworks(Framework)

    assert Framework.objects.count() == before
    assert Framework.objects.filter(kind=Framework.Kind.GCR_AREA, title="Education").exists()
    assert gcm(5).title == "Regular pathways (retitled by an admin)"


@pytest.mark.django_db(transaction=True)
def test_frameworks_come_back_after_the_database_is_flushed():
    call_command("flush", interactive=False, verbosity=0)
    assert Framework.objects.filter(kind=Framework.Kind.GCM_OBJECTIVE).count() == 23


def summary(client, **params):
    response = client.get(reverse("pledges:framework_summary"), params)
    assert response.status_code == 200
    return response


def row_for(response, framework):
    for group in response.context["groups"]:
        for item in group["frameworks"]:
            if item.pk == framework.pk:
                return item.stats
    raise AssertionError(f"{framework} is not on the summary")


def test_summary_counts_pledges_distinct_cities_and_share_achieved(staff_client):
    lima, quito = CityFactory(name="Lima"), CityFactory(name="Quito")
    inclusion = gcm(16)
    PledgeFactory(city=lima, title="A", frameworks=[inclusion, gcm(15)])
    achieve(PledgeFactory(city=lima, title="B", frameworks=[inclusion]))
    achieve(PledgeFactory(city=quito, title="C", frameworks=[inclusion]))
    PledgeFactory(city=quito, title="D", frameworks=[inclusion], status=Pledge.Status.WITHDRAWN)
    PledgeFactory(city=quito, title="No framework")

    response = summary(staff_client)
    assert row_for(response, inclusion) == {
        "pledges": 4,
        "cities": 2,
        "achieved": 2,
        "achieved_percent": 50,
    }
    assert row_for(response, gcm(15)) == {
        "pledges": 1,
        "cities": 1,
        "achieved": 0,
        "achieved_percent": 0,
    }
    assert row_for(response, gcm(1))["achieved_percent"] is None

    # A pledge serving two GCM objectives counts once in the GCM total.
    gcm_group = next(g for g in response.context["groups"] if g["kind"] == "gcm_objective")
    assert gcm_group["total"]["pledges"] == 4


def test_every_summary_number_opens_a_list_with_the_same_count(staff_client):
    city = CityFactory()
    inclusion = gcm(16)
    PledgeFactory(city=city, title="A", frameworks=[inclusion, gcm(15)])
    achieve(PledgeFactory(city=city, title="B", frameworks=[inclusion]))
    PledgeFactory(title="C", frameworks=[inclusion])

    html = summary(staff_client).content.decode()
    row = re.search(rf'data-framework="{inclusion.pk}">(.*?)</tr>', html, re.S).group(1)
    links = dict(re.findall(r'data-stat="(\w+)"[^>]*href="([^"]+)">', row))
    assert set(links) == {"pledges", "cities", "achieved"}

    def listed(url):
        response = staff_client.get(url.replace("&amp;", "&"))
        return response.context["paginator"].count, {
            p.city_id for p in response.context["filter"].qs
        }

    assert listed(links["pledges"])[0] == 3
    assert len(listed(links["cities"])[1]) == 2
    assert listed(links["achieved"])[0] == 1


def test_summary_filters_by_region_and_links_keep_the_filter(staff_client):
    europe = CountryFactory(code="DE", name="Germany", region=Country.Region.EUROPE)
    berlin = CityFactory(name="Berlin", country=europe)
    PledgeFactory(city=berlin, title="Berlin", frameworks=[gcm(16)])
    PledgeFactory(title="Elsewhere", frameworks=[gcm(16)])

    response = summary(staff_client, region="europe")
    assert row_for(response, gcm(16))["pledges"] == 1
    assert f"region=europe&amp;framework={gcm(16).pk}" in response.content.decode()


@pytest.mark.parametrize("rows", [5, 50])
def test_summary_queries_are_bounded(staff_client, django_assert_max_num_queries, rows):
    cities = [CityFactory() for _ in range(5)]
    frameworks = list(Framework.objects.all()[:10])
    for i in range(rows):
        PledgeFactory(city=cities[i % 5], title=f"P{i}", frameworks=frameworks[i % 10 : i % 10 + 2])
    with django_assert_max_num_queries(12):
        response = summary(staff_client)
    total = sum(
        item.stats["pledges"]
        for group in response.context["groups"]
        for item in group["frameworks"]
    )
    assert total == sum(min(2, 10 - i % 10) for i in range(rows))
