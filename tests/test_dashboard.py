import datetime
import io
import re
from html import escape
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cities.models import City, CityNetwork, Country
from crm.core.navigation import MENU
from crm.core.roles import MANAGER
from crm.dashboard.scope import Period, Scope
from crm.dashboard.summary import dashboard
from crm.demo import synthetic
from engagements.models import Engagement, Participation, Process, TARequest
from pledges.models import Pledge

from .factories import (
    BoardSeatFactory,
    CityFactory,
    CityNetworkFactory,
    CountryFactory,
    EngagementFactory,
    EventFactory,
    FrameworkFactory,
    MayoralTermFactory,
    ParticipationFactory,
    PledgeFactory,
    PolicyContributionFactory,
    PolicyOutcomeFactory,
    TARequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("crm:dashboard")


def _today():
    return timezone.localdate()


def _days_ago(n):
    return _today() - datetime.timedelta(days=n)


def _list_count(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    paginator = response.context.get("paginator") or response.context["page_obj"].paginator
    return paginator.count


# --- Access ---------------------------------------------------------------------------------


def test_managers_see_the_dashboard_and_staff_are_refused(manager_client, client, staff_user):
    assert manager_client.get(DASHBOARD).status_code == 200

    client.force_login(staff_user)
    assert client.get(DASHBOARD).status_code == 403
    assert client.get(reverse("crm:dashboard_export")).status_code == 403
    assert client.get(reverse("crm:dashboard_processes")).status_code == 403


def test_the_menu_shows_the_dashboard_only_to_those_allowed(manager_client, client, staff_user):
    entry = next(e for _, links in MENU for e in links if e[1] == "crm:dashboard")
    assert entry[2] == "crm.view_dashboard"
    assert f'href="{DASHBOARD}"' in manager_client.get(reverse("home")).content.decode()

    client.force_login(staff_user)
    assert f'href="{DASHBOARD}"' not in client.get(reverse("home")).content.decode()


# --- Figures, by hand -----------------------------------------------------------------------


@pytest.fixture
def world(db):
    """A small, hand-counted world: two regions, one network, this year and last."""
    europe = CountryFactory(code="DE", name="Germany", region=Country.Region.EUROPE)
    africa = CountryFactory(code="KE", name="Kenya", region=Country.Region.AFRICA)
    network = CityNetworkFactory(name="Mayors Mechanism")
    berlin = CityFactory(name="Berlin", country=europe, status=City.Status.PARTNER)
    hamburg = CityFactory(name="Hamburg", country=europe, status=City.Status.ENGAGED)
    nairobi = CityFactory(name="Nairobi", country=africa, status=City.Status.PARTNER)
    CityFactory(name="Mombasa", country=africa, status=City.Status.PARTNER)  # never engaged
    nairobi.networks.add(network)
    year = _today().year
    this_year = datetime.date(year, 1, 15)
    last_year = datetime.date(year - 1, 6, 1)
    owner = UserFactory(username="owner", first_name="Olu", last_name="Owner")

    # A dialogue with two European cities counts once; one last year; one in Africa.
    EngagementFactory(kind="dialogue", date=this_year, cities=[berlin, hamburg], owner=owner)
    EngagementFactory(kind="dialogue", date=this_year, cities=[nairobi], owner=owner)
    EngagementFactory(kind="dialogue", date=last_year, cities=[berlin], owner=owner)
    EngagementFactory(
        kind="meeting",
        date=this_year,
        cities=[nairobi],
        owner=owner,
        follow_up_date=_days_ago(3),
    )
    PolicyContributionFactory(date=this_year, cities=[berlin, nairobi])
    PolicyContributionFactory(date=last_year, cities=[berlin])
    PolicyOutcomeFactory(date=this_year)

    # Two events of one process and one of another, all with cities, this year; one last year.
    gfmd_a = EventFactory(name="GFMD A", process=Process.GFMD, start_date=this_year)
    gfmd_b = EventFactory(name="GFMD B", process=Process.GFMD, start_date=this_year)
    cop = EventFactory(name="COP", process=Process.COP, start_date=this_year)
    imrf = EventFactory(name="IMRF", process=Process.IMRF, start_date=last_year)
    for event, city in [(gfmd_a, berlin), (gfmd_b, nairobi), (cop, nairobi), (imrf, berlin)]:
        ParticipationFactory(event=event, city=city)
    EventFactory(name="GRF", process=Process.GRF, start_date=this_year)  # no city took part

    call = FrameworkFactory(kind="call_to_local_action", title="Call to Local Action")
    PledgeFactory(city=berlin, announced_on=this_year, status="in_progress", frameworks=[call])
    PledgeFactory(
        city=nairobi,
        announced_on=this_year,
        status="achieved",
        progress_percent=100,
        frameworks=[call],
    )
    PledgeFactory(city=nairobi, announced_on=last_year, status="in_progress")

    # TA: received this year, delivered in 10 and 30 days; one overdue; one received last year.
    TARequestFactory(
        city=berlin,
        received_on=this_year,
        status=TARequest.Status.DELIVERED,
        delivered_on=this_year + datetime.timedelta(days=10),
        owner=owner,
    )
    TARequestFactory(
        city=nairobi,
        received_on=this_year,
        status=TARequest.Status.CLOSED,
        delivered_on=this_year + datetime.timedelta(days=30),
        owner=owner,
    )
    TARequestFactory(
        city=nairobi,
        received_on=last_year,
        status=TARequest.Status.ACCEPTED,
        due_date=_days_ago(1),
        owner=owner,
    )
    return {"network": network, "owner": owner, "berlin": berlin, "nairobi": nairobi}


def _values(data):
    return {key: (f.value, f.previous) for key, f in data.figures.items()}


def test_figures_count_this_year_against_last_year(world):
    values = _values(dashboard(Period.this_year(), Scope()))

    assert values["partner_cities"][0] == 3
    assert values["cities_engaged"] == (3, 1)
    assert values["dialogues"] == (2, 1)
    assert values["contributions"] == (1, 1)
    assert values["processes"] == (2, 1)  # GFMD twice counts once; GRF had no city
    assert values["outcomes"] == (1, 0)
    assert values["pledges_made"] == (2, 1)
    assert values["pledges_in_progress"][0] == 2
    assert values["pledges_achieved"][0] == 1
    assert values["ta_received"] == (2, 1)
    assert values["ta_delivered"] == (2, 0)
    assert values["ta_overdue"][0] == 1
    assert values["ta_median_days"] == (20, None)


def test_region_and_network_narrow_the_figures_through_the_city(world):
    europe = _values(dashboard(Period.this_year(), Scope(region=Country.Region.EUROPE)))
    assert europe["partner_cities"][0] == 1
    assert europe["cities_engaged"][0] == 2
    assert europe["dialogues"][0] == 1
    assert europe["processes"][0] == 1
    assert europe["ta_overdue"][0] == 0

    network = _values(dashboard(Period.this_year(), Scope(network=world["network"])))
    assert network["cities_engaged"][0] == 1
    assert network["dialogues"][0] == 1
    assert network["pledges_achieved"][0] == 1
    assert network["ta_overdue"][0] == 1


def test_previous_period_has_the_same_length():
    period = Period(datetime.date(2025, 3, 1), datetime.date(2025, 3, 31))
    assert period.previous() == Period(datetime.date(2025, 1, 29), datetime.date(2025, 2, 28))
    assert Period.year(2025).previous() == Period.year(2024)


def test_the_page_shows_the_period_and_figures(manager_client, world):
    response = manager_client.get(DASHBOARD)
    html = response.content.decode()

    assert str(_today().year) in response.context["data"].period.__str__()
    assert 'data-figure-link="dialogues"' in html
    assert "Olu Owner" in html  # overdue by owner
    for chart in ("month", "region", "framework", "pipeline"):
        assert f'data-chart="{chart}"' in html
    assert 'id="dashboard-charts"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html


def test_a_custom_period_and_region_are_applied(manager_client, world):
    year = _today().year
    response = manager_client.get(
        DASHBOARD, {"start": f"{year - 1}-01-01", "end": f"{year - 1}-12-31", "region": "europe"}
    )
    data = response.context["data"]
    assert data.period == Period.year(year - 1)
    assert data.figures["dialogues"].value == 1
    assert data.figures["contributions"].value == 1


def test_a_period_ending_before_it_starts_is_refused_with_a_message(manager_client, world):
    response = manager_client.get(DASHBOARD, {"start": "2025-05-01", "end": "2025-04-01"})

    assert response.status_code == 200
    assert "must end on or after its start" in response.content.decode()
    assert response.context["data"].period == Period.this_year()


def test_board_seats_ending_soon_and_upcoming_events_with_delegations(manager_client, world):
    term = MayoralTermFactory(city=world["berlin"])
    BoardSeatFactory(
        mayor=term.mayor, start_date=_days_ago(600), end_date=_today() + datetime.timedelta(30)
    )
    BoardSeatFactory(start_date=_days_ago(10), end_date=_today() + datetime.timedelta(700))
    event = EventFactory(name="UNGA side event", start_date=_today() + datetime.timedelta(days=20))
    ParticipationFactory(event=event, city=world["nairobi"], role=Participation.Role.SPEAKER)

    data = manager_client.get(DASHBOARD).context["data"]

    assert [seat.mayor for seat in data.board_seats] == [term.mayor]
    assert data.board_seats[0].mayor.current_terms[0].city == world["berlin"]
    assert [e.name for e in data.events] == ["UNGA side event"]
    assert [p.city for p in data.events[0].delegation] == [world["nairobi"]]
    html = manager_client.get(DASHBOARD).content.decode()
    assert "UNGA side event" in html and "Nairobi" in html


def test_most_and_least_engaged_partner_cities(world):
    cities = dashboard(Period.this_year(), Scope()).engaged_cities
    assert [(c["name"], c["n"]) for c in cities["most"]] == [
        ("Nairobi", 2),
        ("Berlin", 1),
        ("Mombasa", 0),
    ]
    assert cities["least"] == []  # all three partner cities are already listed


# --- Every figure links to a list whose count equals it --------------------------------------


@pytest.fixture
def volume(db):
    UserFactory(username="amina")
    UserFactory(username="priya")
    synthetic.seed(scale=1)
    network = CityNetwork.objects.order_by("pk").first()
    return network


def _scopes(network):
    region = (
        City.objects.filter(name__startswith=synthetic.CITY_PREFIX)
        .values_list("country__region", flat=True)
        .first()
    )
    return [{}, {"region": region}, {"network": network.pk}]


def _periods():
    today = _today()
    return [
        {},  # this year
        {"start": (today - datetime.timedelta(days=364)).isoformat(), "end": today.isoformat()},
    ]


@pytest.mark.parametrize("period", _periods(), ids=["this-year", "last-12-months"])
def test_every_figure_links_to_a_list_whose_count_equals_it(manager_client, volume, period):
    for scope in _scopes(volume):
        data = manager_client.get(DASHBOARD, {**period, **scope}).context["data"]
        figures = data.figures
        checked = 0
        for key, figure in figures.items():
            # The median counts over the requests delivered in the period: its list is theirs.
            expected = figures["ta_delivered"] if key == "ta_median_days" else figure
            assert _list_count(manager_client, figure.url) == expected.value, (key, scope)
            if figure.compares:
                assert _list_count(manager_client, figure.previous_url) == expected.previous, (
                    key,
                    scope,
                    "previous",
                )
            checked += 1
        assert checked == 13
        # The figures are not all trivially zero.
        assert figures["dialogues"].value + figures["dialogues"].previous > 0


def test_chart_and_table_links_lead_to_lists_with_the_same_counts(manager_client, volume):
    data = manager_client.get(DASHBOARD, {"region": _scopes(volume)[1]["region"]}).context["data"]

    for row in data.by_region:
        assert _list_count(manager_client, row["url"]) == row["count"]
    for row in data.pipeline:
        assert _list_count(manager_client, row["url"]) == row["count"]
    for row in data.by_framework["rows"]:
        assert _list_count(manager_client, row["url"]) == row["total"]
        for cell in row["cells"]:
            assert _list_count(manager_client, cell["url"]) == cell["count"]
    for city in data.engaged_cities["most"] + data.engaged_cities["least"]:
        assert _list_count(manager_client, city["engagements_url"]) == city["n"]
    assert data.overdue
    for row in data.overdue:
        if row["followups_url"]:
            assert _list_count(manager_client, row["followups_url"]) == row["followups"]
        if row["ta_url"]:
            assert _list_count(manager_client, row["ta_url"]) == row["ta"]


def test_the_processes_page_lists_what_the_figure_counts(manager_client, volume):
    upcoming = _today() + datetime.timedelta(days=200)
    query = {"start": _days_ago(3 * 365).isoformat(), "end": upcoming.isoformat()}
    figure = manager_client.get(DASHBOARD, query).context["data"].figures["processes"]
    response = manager_client.get(figure.url)

    assert response.context["paginator"].count == figure.value > 1
    for row in response.context["processes"]:
        assert _list_count(manager_client, row["participations_url"]) == row["participations"]


def test_monthly_chart_adds_up_to_the_engagements_of_the_period(volume):
    period = Period.this_year()
    data = dashboard(period, Scope())
    expected = Engagement.objects.filter(date__range=period.range()).count()
    assert sum(data.by_month["totals"]) == expected > 0
    assert len(data.by_month["months"]) == 12


# --- Speed: a constant number of queries ----------------------------------------------------


def _dashboard_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(DASHBOARD).status_code == 200
    return len(queries)


def test_the_dashboard_runs_a_constant_number_of_queries(
    manager_client, world, django_assert_max_num_queries, settings
):
    settings.DASHBOARD_CACHE_SECONDS = 0  # count the queries of a real computation
    # One of everything, so every prefetch runs in the small case too.
    BoardSeatFactory(end_date=_today() + datetime.timedelta(days=40))
    ParticipationFactory(event=EventFactory(start_date=_today() + datetime.timedelta(days=10)))
    small = _dashboard_queries(manager_client)

    UserFactory(username="amina")
    synthetic.seed(scale=2)
    for _ in range(5):
        BoardSeatFactory(end_date=_today() + datetime.timedelta(days=40))
        event = EventFactory(start_date=_today() + datetime.timedelta(days=10))
        ParticipationFactory.create_batch(3, event=event)

    with django_assert_max_num_queries(small):
        manager_client.get(DASHBOARD)
    with django_assert_max_num_queries(30):
        manager_client.get(DASHBOARD, {"region": "europe"})


def test_figures_are_reused_until_the_data_changes(manager_client, world):
    first = manager_client.get(DASHBOARD).context["data"]
    with CaptureQueriesContext(connection) as queries:
        again = manager_client.get(DASHBOARD).context["data"]
    assert again.computed_at == first.computed_at
    assert len(queries) < 10  # session, user, permissions, form choices: no figure queries

    # A dialogue logged through the app shows at once.
    EngagementFactory(kind="dialogue", date=_today(), cities=[world["berlin"]])
    after = manager_client.get(DASHBOARD).context["data"]
    assert after.figures["dialogues"].value == first.figures["dialogues"].value + 1

    # A change of the cities an engagement is linked to counts too.
    engagement = Engagement.objects.filter(kind="dialogue", date=_today()).first()
    engagement.cities.add(world["nairobi"])
    assert manager_client.get(DASHBOARD).context["data"].computed_at > after.computed_at


def test_refresh_recomputes_figures_written_behind_the_apps_back(manager_client, world):
    before = manager_client.get(DASHBOARD).context["data"].figures["ta_overdue"].value
    TARequest.objects.filter(status="accepted").update(due_date=_days_ago(400))  # no signals
    TARequest.objects.bulk_create(
        [TARequest(city=world["berlin"], topic="Bulk", due_date=_days_ago(5))]
    )

    assert manager_client.get(DASHBOARD).context["data"].figures["ta_overdue"].value == before
    response = manager_client.get(DASHBOARD, {"refresh": "1"})
    assert response.context["data"].figures["ta_overdue"].value == before + 1
    assert "Figures as of" in response.content.decode()


def _shown(html, key):
    match = re.search(rf'data-figure-link="{key}"[^>]*>([^<]*)<', html)
    return int(match.group(1).replace(",", ""))


def test_the_cached_page_shows_a_change_at_once(manager_client, world):
    first = manager_client.get(DASHBOARD)
    again = manager_client.get(DASHBOARD)
    assert again.context["data"].computed_at == first.context["data"].computed_at  # cached
    before = _shown(again.content.decode(), "dialogues")

    EngagementFactory(kind="dialogue", date=_today(), cities=[world["berlin"]])
    assert _shown(manager_client.get(DASHBOARD).content.decode(), "dialogues") == before + 1

    TARequest.objects.bulk_create(
        [TARequest(city=world["berlin"], topic="Bulk", due_date=_days_ago(5))]
    )
    overdue = _shown(manager_client.get(DASHBOARD).content.decode(), "ta_overdue")
    refreshed = manager_client.get(DASHBOARD, {"refresh": "1"}).content.decode()
    assert _shown(refreshed, "ta_overdue") == overdue + 1


def test_a_cache_outage_neither_blocks_saves_nor_the_dashboard(manager_client, world, settings):
    settings.CACHES = {
        **settings.CACHES,
        "dashboard": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2},
        },
    }
    EngagementFactory(kind="dialogue", date=_today(), cities=[world["berlin"]])  # saved anyway

    response = manager_client.get(DASHBOARD)
    assert response.status_code == 200
    assert response.context["data"].figures["dialogues"].value == 3


# --- Export ---------------------------------------------------------------------------------


def test_export_has_one_sheet_per_block_with_the_figures(manager_client, world):
    year = _today().year
    response = manager_client.get(
        reverse("crm:dashboard_export"), {"start": f"{year}-01-01", "end": f"{year}-12-31"}
    )

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"mmc-dashboard-{year}-01-01-to-{year}-12-31.xlsx" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [
        "Network",
        "Global advocacy",
        "Pledges",
        "Technical assistance",
        "Engagements by month",
        "Engagements by region",
        "Pledges by framework",
        "TA pipeline",
        "Partner cities",
        "Overdue by owner",
        "Board seats ending",
        "Upcoming events",
    ]
    rows = {
        row[0]: row[1:3]
        for name in ("Network", "Global advocacy", "Pledges", "Technical assistance")
        for row in workbook[name].iter_rows(min_row=6, values_only=True)
    }
    assert rows["Cities engaged"] == (3, 1)
    assert rows["Pledges made"] == (2, 1)
    assert rows["Global dialogues"] == (2, 1)
    assert rows["Multilateral processes accessed"] == (2, 1)
    assert rows["Median days to deliver"] == (20, None)
    regions = dict(
        row for row in workbook["Engagements by region"].iter_rows(min_row=6, values_only=True)
    )
    assert regions["Europe"] == 1 and regions["Africa"] == 2


def test_export_keeps_text_that_looks_like_a_formula_as_text(manager_client, world):
    world["berlin"].name = "=HYPERLINK(1)"
    world["berlin"].save()
    response = manager_client.get(reverse("crm:dashboard_export"))
    sheet = load_workbook(io.BytesIO(response.content))["Partner cities"]
    names = [row[1] for row in sheet.iter_rows(min_row=6, values_only=True)]
    assert "'=HYPERLINK(1)" in names
    assert "=HYPERLINK(1)" not in names


def test_manager_role_has_the_dashboard_permission(db):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=MANAGER))
    assert user.has_perm("crm.view_dashboard")


def test_export_link_keeps_the_chosen_period(manager_client, world):
    query = {"start": "2025-01-01", "end": "2025-06-30"}
    html = manager_client.get(DASHBOARD, query).content.decode()
    assert escape(f"{reverse('crm:dashboard_export')}?{urlencode(query)}") in html


def test_pledges_figures_ignore_withdrawn_and_count_status_today(world):
    PledgeFactory(city=world["berlin"], announced_on=_days_ago(2000), status="withdrawn")
    values = _values(dashboard(Period.this_year(), Scope()))
    assert values["pledges_in_progress"][0] == Pledge.objects.filter(status="in_progress").count()


# --- Speed fixes found by the page benchmark -------------------------------------------------


def test_plain_select_writes_every_option_escaped_and_keeps_the_choice(manager_client, db):
    CountryFactory(code="CI", name="Côte d'Ivoire", region=Country.Region.AFRICA)
    chosen = CountryFactory(code="DE", name="Germany", region=Country.Region.EUROPE)

    html = manager_client.get(reverse("cities:city_list"), {"country": chosen.pk}).content.decode()

    select = re.search(r'<select name="country"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert f'<option value="{chosen.pk}" selected>Germany</option>' in select
    assert "Côte d&#x27;Ivoire" in select
    assert select.count("<option") == Country.objects.count() + 1  # and "Any country"


def test_an_import_shows_on_the_cached_dashboard_at_once(manager_client, world):
    from crm.imports.engine import commit_file

    before = _shown(manager_client.get(DASHBOARD).content.decode(), "partner_cities")
    csv = io.BytesIO(b"Name,Country,Status\nCuritiba,BR,Partner\n")
    assert commit_file("cities", csv).committed

    after = _shown(manager_client.get(DASHBOARD).content.decode(), "partner_cities")
    assert after == before + 1
