"""Pledges: progress updates and the status rules, the list's filters and counts, the pages."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template import engines
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from cities.models import Country
from crm.core.navigation import MENU
from pledges.forms import PledgeForm, PledgeUpdateForm
from pledges.models import Framework, Pledge, PledgeUpdate
from pledges.services import pledge_add_update, pledge_refresh_progress

from .factories import (
    CityFactory,
    CityNetworkFactory,
    CountryFactory,
    EventFactory,
    PledgeFactory,
    PledgeUpdateFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days_ago(n):
    return TODAY - datetime.timedelta(days=n)


def add_update(pledge, percent, date=None, **kwargs):
    return pledge_add_update(
        pledge=pledge,
        date=date or TODAY,
        note=kwargs.pop("note", f"Now at {percent} %"),
        percent=percent,
        author=kwargs.pop("author", None),
        **kwargs,
    )


def gcm(number):
    return Framework.objects.get(kind=Framework.Kind.GCM_OBJECTIVE, number=number)


# --- Progress updates and status rules -------------------------------------------------------


def test_the_latest_update_sets_progress_and_a_back_dated_one_does_not():
    pledge = PledgeFactory(announced_on=days_ago(400))
    add_update(pledge, 20, date=days_ago(300))
    add_update(pledge, 60, date=days_ago(30))
    add_update(pledge, 40, date=days_ago(100))  # entered late, about an earlier date

    pledge.refresh_from_db()
    assert pledge.progress_percent == 60
    assert pledge.last_update_on == days_ago(30)
    assert pledge.status == Pledge.Status.IN_PROGRESS
    assert pledge.updates.count() == 3


def test_same_day_updates_the_one_entered_last_wins():
    pledge = PledgeFactory()
    add_update(pledge, 30)
    add_update(pledge, 35)
    pledge.refresh_from_db()
    assert pledge.progress_percent == 35


def test_reaching_100_percent_marks_the_pledge_achieved_and_history_records_it():
    owner = UserFactory(username="amina")
    pledge = PledgeFactory(status=Pledge.Status.IN_PROGRESS)
    add_update(pledge, 100, author=owner)

    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.ACHIEVED
    assert pledge.progress_percent == 100
    statuses = list(pledge.history.order_by("history_date").values_list("status", flat=True))
    assert statuses[0] == Pledge.Status.IN_PROGRESS
    assert statuses[-1] == Pledge.Status.ACHIEVED


def test_news_on_a_stalled_pledge_moves_it_to_in_progress_but_withdrawn_stays_withdrawn():
    stalled = PledgeFactory(status=Pledge.Status.STALLED)
    withdrawn = PledgeFactory(status=Pledge.Status.WITHDRAWN)
    add_update(stalled, 30)
    add_update(withdrawn, 100)
    stalled.refresh_from_db()
    withdrawn.refresh_from_db()
    assert stalled.status == Pledge.Status.IN_PROGRESS
    assert withdrawn.status == Pledge.Status.WITHDRAWN
    assert withdrawn.progress_percent == 100


def test_an_achieved_pledge_whose_latest_update_drops_below_100_is_in_progress_again():
    pledge = PledgeFactory()
    add_update(pledge, 100, date=days_ago(10))
    add_update(pledge, 90, date=days_ago(1), note="One district still to go.")
    pledge.refresh_from_db()
    assert (pledge.status, pledge.progress_percent) == (Pledge.Status.IN_PROGRESS, 90)


def test_an_explicit_status_is_kept():
    pledge = PledgeFactory()
    add_update(pledge, 10, status=Pledge.Status.STALLED)
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.STALLED


def test_achieved_below_100_is_refused_and_nothing_is_saved():
    pledge = PledgeFactory()
    with pytest.raises(ValidationError, match="Achieved means 100"):
        add_update(pledge, 80, status=Pledge.Status.ACHIEVED)
    pledge.refresh_from_db()
    assert pledge.updates.count() == 0
    assert (pledge.status, pledge.progress_percent) == (Pledge.Status.ANNOUNCED, 0)


@pytest.mark.parametrize("percent", [-1, 101])
def test_the_service_refuses_a_percent_outside_0_100(percent):
    pledge = PledgeFactory()
    with pytest.raises(ValidationError):
        add_update(pledge, percent)
    assert PledgeUpdate.objects.count() == 0


def test_a_future_dated_update_is_refused():
    pledge = PledgeFactory()
    with pytest.raises(ValidationError, match="future"):
        add_update(pledge, 10, date=TODAY + datetime.timedelta(days=1))
    assert not PledgeUpdate.objects.exists()


def test_achieved_on_a_back_dated_update_is_refused_when_a_later_one_is_below_100(staff_client):
    pledge = PledgeFactory()
    add_update(pledge, 50, date=days_ago(1))
    response = staff_client.post(
        reverse("pledges:update_create", args=[pledge.pk]),
        {
            "date": days_ago(30).isoformat(),
            "percent": "100",
            "note": "Old report",
            "status": "achieved",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count(f"a later update ({days_ago(1):%d %b %Y}) reports 50 %") == 1
    assert pledge.updates.count() == 1


def test_refresh_after_deleting_the_latest_update_falls_back_to_the_previous_one():
    pledge = PledgeFactory()
    add_update(pledge, 40, date=days_ago(20))
    latest = add_update(pledge, 100, date=days_ago(2))
    latest.delete()
    pledge_refresh_progress(pledge=pledge)
    pledge.refresh_from_db()
    assert (pledge.progress_percent, pledge.last_update_on) == (40, days_ago(20))
    assert pledge.status == Pledge.Status.IN_PROGRESS


# --- The database refuses what the forms refuse ----------------------------------------------


def test_the_database_refuses_an_achieved_pledge_below_100():
    pledge = PledgeFactory(progress_percent=99)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pledge.objects.filter(pk=pledge.pk).update(status=Pledge.Status.ACHIEVED)


@pytest.mark.parametrize("percent", [101, 250])
def test_the_database_refuses_a_percent_above_100(percent):
    pledge = PledgeFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PledgeUpdate.objects.create(pledge=pledge, note="x", percent=percent)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pledge.objects.filter(pk=pledge.pk).update(progress_percent=percent)


def test_the_database_refuses_a_target_date_before_the_announcement():
    with pytest.raises(IntegrityError), transaction.atomic():
        PledgeFactory(announced_on=TODAY, target_date=days_ago(1))


def test_update_form_refuses_percent_above_100_and_achieved_below_100():
    pledge = PledgeFactory()
    form = PledgeUpdateForm(
        data={"date": TODAY, "percent": 101, "note": "x", "status": ""}, pledge=pledge
    )
    assert not form.is_valid()
    assert "percent" in form.errors

    form = PledgeUpdateForm(
        data={"date": TODAY, "percent": 70, "note": "x", "status": "achieved"}, pledge=pledge
    )
    assert not form.is_valid()
    assert "Achieved means 100 %" in form.errors["status"][0]


def test_pledge_form_refuses_achieved_without_100_percent_with_a_clear_message():
    pledge = PledgeFactory(progress_percent=60, status=Pledge.Status.IN_PROGRESS)
    data = {
        "city": pledge.city.pk,
        "title": pledge.title,
        "announced_on": pledge.announced_on,
        "status": "achieved",
    }
    form = PledgeForm(data=data, instance=pledge)
    assert not form.is_valid()
    assert "achieved only at 100 %" in form.errors["status"][0]
    assert "60 %" in form.errors["status"][0]


def test_posting_achieved_below_100_changes_nothing(staff_client):
    pledge = PledgeFactory(progress_percent=60, status=Pledge.Status.IN_PROGRESS)
    response = staff_client.post(
        reverse("pledges:pledge_update", args=[pledge.pk]),
        {
            "city": pledge.city.pk,
            "title": "Renamed",
            "announced_on": pledge.announced_on,
            "status": "achieved",
        },
    )
    assert response.status_code == 200
    assert "achieved only at 100 %" in response.content.decode()
    pledge.refresh_from_db()
    assert (pledge.title, pledge.status) != ("Renamed", Pledge.Status.ACHIEVED)
    assert pledge.status == Pledge.Status.IN_PROGRESS


# --- Pages -----------------------------------------------------------------------------------


def test_create_page_preselects_the_city_from_the_query(staff_client, staff_user):
    city = CityFactory(name="Bogotá")
    response = staff_client.get(reverse("pledges:pledge_create") + f"?city={city.pk}")
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["city"] == city.pk
    assert form.initial["owner"] == staff_user.pk
    assert "Bogotá" in response.content.decode()  # the picker renders the chosen city


def test_staff_add_a_pledge_with_frameworks(staff_client, staff_user):
    city = CityFactory()
    event = EventFactory(name="IMRF 2022")
    response = staff_client.post(
        reverse("pledges:pledge_create"),
        {
            "city": city.pk,
            "title": "Open a one-stop welcome centre",
            "frameworks": [gcm(15).pk, gcm(16).pk],
            "event": event.pk,
            "announced_on": "2022-05-18",
            "status": "announced",
            "target_date": "2024-12-31",
            "owner": staff_user.pk,
        },
    )
    pledge = Pledge.objects.get(title="Open a one-stop welcome centre")
    assert response.status_code == 302
    assert response["Location"] == pledge.get_absolute_url()
    assert set(pledge.frameworks.values_list("number", flat=True)) == {15, 16}
    assert pledge.event == event


def test_a_duplicate_title_for_the_same_city_is_refused(staff_client):
    pledge = PledgeFactory()
    response = staff_client.post(
        reverse("pledges:pledge_create"),
        {
            "city": pledge.city.pk,
            "title": pledge.title,
            "announced_on": TODAY,
            "status": "announced",
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Pledge.objects.count() == 1


def test_adding_an_update_from_the_pledge_page(staff_client, staff_user):
    pledge = PledgeFactory(status=Pledge.Status.ANNOUNCED)
    page = staff_client.get(pledge.get_absolute_url())
    assert 'data-testid="update-form"' in page.content.decode()

    response = staff_client.post(
        reverse("pledges:update_create", args=[pledge.pk]),
        {
            "date": TODAY.isoformat(),
            "percent": "45",
            "note": "Welcome centre lease signed.",
            "evidence_url": "https://example.org/report",
            "status": "",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0].startswith(pledge.get_absolute_url())
    html = response.content.decode()
    assert "Progress update saved (45 %). The pledge is now in progress." in html
    assert "Welcome centre lease signed." in html
    pledge.refresh_from_db()
    assert (pledge.progress_percent, pledge.status) == (45, Pledge.Status.IN_PROGRESS)
    update = pledge.updates.get()
    assert update.author == staff_user
    # The status change shows in the record's history on the page, in words.
    history = html[html.index("history-list") :]
    assert "Announced</del> → In progress" in history
    assert "0 %</del> → 45 %" in history


def test_an_invalid_update_shows_the_message_and_saves_nothing(staff_client):
    pledge = PledgeFactory()
    response = staff_client.post(
        reverse("pledges:update_create", args=[pledge.pk]),
        {"date": TODAY.isoformat(), "percent": "120", "note": "Typo", "status": ""},
    )
    assert response.status_code == 200
    assert "less than or equal to 100" in response.content.decode()
    assert not PledgeUpdate.objects.exists()


def test_detail_page_shows_frameworks_event_and_update_history(staff_client):
    event = EventFactory(name="International Migration Review Forum 2022")
    pledge = PledgeFactory(event=event, frameworks=[gcm(16)])
    add_update(pledge, 25, date=days_ago(90), note="Plan drafted.")
    add_update(pledge, 50, date=days_ago(10), note="Council approved the plan.")
    html = staff_client.get(pledge.get_absolute_url()).content.decode()
    assert "International Migration Review Forum 2022" in html
    assert "GCM 16: Inclusion and social cohesion" in html
    assert html.index("Council approved the plan.") < html.index("Plan drafted.")
    # The progress-over-time chart: from 0 % when announced, then each update, oldest first.
    assert '"values": [0, 25, 50]' in html


def test_history_names_frameworks_and_owners_not_ids(staff_client):
    amina = UserFactory(username="amina", first_name="Amina", last_name="Diallo")
    pledge = PledgeFactory(owner=None)
    pledge.owner = amina
    pledge.save()
    pledge.frameworks.set([gcm(4)])
    html = staff_client.get(pledge.get_absolute_url()).content.decode()
    history = html[html.index("history-list") :]
    assert "GCM 4: Legal identity and documentation" in history
    assert (
        '<strong>Owner</strong>: <del class="text-body-secondary">—</del> → Amina Diallo' in history
    )
    assert "'framework'" not in history


def test_only_managers_delete_pledges(staff_user, manager_client):
    staff_client = Client()
    staff_client.force_login(staff_user)
    pledge = PledgeFactory()
    PledgeUpdateFactory(pledge=pledge)
    url = reverse("pledges:pledge_delete", args=[pledge.pk])
    assert staff_client.post(url).status_code == 403
    assert Pledge.objects.filter(pk=pledge.pk).exists()
    assert manager_client.post(url).status_code == 302
    assert not Pledge.objects.filter(pk=pledge.pk).exists()


def test_staff_without_add_permission_see_no_update_form(client, db):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_pledge"))
    client.force_login(viewer)
    pledge = PledgeFactory()
    html = client.get(pledge.get_absolute_url()).content.decode()
    assert 'data-testid="update-form"' not in html
    response = client.post(
        reverse("pledges:update_create", args=[pledge.pk]),
        {"date": TODAY.isoformat(), "percent": "10", "note": "x"},
    )
    assert response.status_code == 403


def test_menu_has_the_pledge_pages():
    entries = dict(MENU)["Pledges"]
    assert [reverse(url) for _label, url, _perm in entries] == [
        reverse("pledges:pledge_list"),
        reverse("pledges:framework_summary"),
    ]


# --- The list: filters, counts, queries ------------------------------------------------------


def list_titles(client, **params):
    response = client.get(reverse("pledges:pledge_list"), params)
    assert response.status_code == 200
    return {pledge.title for pledge in response.context["object_list"]}, response


def test_stalled_finds_pledges_silent_for_six_months_and_not_recent_or_finished_ones(
    staff_client,
):
    old_update = PledgeFactory(title="Old update", announced_on=days_ago(600))
    add_update(old_update, 30, date=days_ago(200))
    PledgeFactory(title="Never updated, old", announced_on=days_ago(200))
    recent = PledgeFactory(title="Recent update", announced_on=days_ago(600))
    add_update(recent, 30, date=days_ago(20))
    PledgeFactory(title="Never updated, new", announced_on=days_ago(30))
    done = PledgeFactory(title="Achieved long ago", announced_on=days_ago(900))
    add_update(done, 100, date=days_ago(400))
    on_the_edge = PledgeFactory(title="Updated 182 days ago", announced_on=days_ago(600))
    add_update(on_the_edge, 30, date=days_ago(182))

    stalled, response = list_titles(staff_client, stalled="true")
    assert stalled == {"Old update", "Never updated, old"}
    assert response.context["silent_count"] == 2
    assert list_titles(staff_client)[1].context["silent_count"] == 2
    not_stalled, _ = list_titles(staff_client, stalled="false")
    assert not_stalled == {
        "Recent update",
        "Never updated, new",
        "Achieved long ago",
        "Updated 182 days ago",
    }


def test_stalled_threshold_follows_the_setting(staff_client, settings):
    settings.REMINDER_PLEDGE_STALE_DAYS = 30
    pledge = PledgeFactory(title="Quiet for 40 days", announced_on=days_ago(100))
    add_update(pledge, 10, date=days_ago(40))
    assert list_titles(staff_client, stalled="true")[0] == {"Quiet for 40 days"}


def test_counts_by_status_are_for_the_filtered_set(staff_client):
    brazil = CountryFactory(code="BR", name="Brazil", region=Country.Region.LATIN_AMERICA)
    germany = CountryFactory(code="DE", name="Germany", region=Country.Region.EUROPE)
    sao_paulo = CityFactory(name="São Paulo", country=brazil)
    berlin = CityFactory(name="Berlin", country=germany)
    for i in range(3):
        PledgeFactory(city=sao_paulo, title=f"SP {i}", status=Pledge.Status.ANNOUNCED)
    achieved = PledgeFactory(city=sao_paulo, title="SP done")
    add_update(achieved, 100)
    PledgeFactory(city=berlin, title="Berlin 1", status=Pledge.Status.STALLED)

    _, response = list_titles(staff_client, region="latin_america")
    counts = {value: n for value, _label, n in response.context["status_counts"]}
    assert counts == {
        "announced": 3,
        "in_progress": 0,
        "achieved": 1,
        "stalled": 0,
        "withdrawn": 0,
    }
    html = response.content.decode()
    assert 'data-status="achieved"' in html

    titles, response = list_titles(staff_client, status=["stalled", "achieved"])
    assert titles == {"SP done", "Berlin 1"}
    assert response.context["paginator"].count == 2


def test_list_filters_by_framework_kind_without_duplicates(staff_client):
    both = PledgeFactory(title="Two objectives", frameworks=[gcm(15), gcm(16)])
    PledgeFactory(title="GCR only", frameworks=[Framework.objects.get(title="Education")])
    titles, response = list_titles(staff_client, framework_kind="gcm_objective")
    assert titles == {"Two objectives"}
    assert response.context["paginator"].count == 1
    assert list_titles(staff_client, framework=gcm(16).pk)[0] == {both.title}
    assert list_titles(staff_client, framework=gcm(1).pk)[0] == set()


def test_list_filters_by_city_event_owner_network_and_date(staff_client):
    network = CityNetworkFactory(name="Mayors Mechanism")
    member = CityFactory(name="Freetown")
    member.networks.add(network)
    event = EventFactory(name="GRF 2023")
    owner = UserFactory(username="lucas")
    PledgeFactory(title="Match", city=member, event=event, owner=owner, announced_on=days_ago(10))
    PledgeFactory(title="Other", announced_on=days_ago(400))
    assert list_titles(staff_client, city=member.pk)[0] == {"Match"}
    assert list_titles(staff_client, event=event.pk)[0] == {"Match"}
    assert list_titles(staff_client, owner=owner.pk)[0] == {"Match"}
    assert list_titles(staff_client, network=network.pk)[0] == {"Match"}
    assert list_titles(staff_client, announced_on_after=days_ago(30).isoformat())[0] == {"Match"}
    assert list_titles(staff_client, announced_on_before=days_ago(30).isoformat())[0] == {"Other"}


def test_search_ignores_accents_in_city_names(staff_client):
    PledgeFactory(title="Housing", city=CityFactory(name="Zürich"))
    PledgeFactory(title="Jobs", city=CityFactory(name="Lima"))
    assert list_titles(staff_client, q="zurich")[0] == {"Housing"}
    assert list_titles(staff_client, q="JOBS")[0] == {"Jobs"}


def test_list_sorts_by_progress(staff_client):
    for percent in (70, 10, 40):
        add_update(PledgeFactory(title=f"At {percent}"), percent)
    response = staff_client.get(reverse("pledges:pledge_list"), {"o": "-progress_percent"})
    assert [p.progress_percent for p in response.context["object_list"]] == [70, 40, 10]


@pytest.mark.parametrize("rows", [5, 50])
def test_list_queries_are_bounded(staff_client, django_assert_max_num_queries, rows):
    frameworks = [gcm(1), gcm(2)]
    event = EventFactory()
    for i in range(rows):
        PledgeFactory(title=f"Pledge {i}", frameworks=frameworks, event=event)
    with django_assert_max_num_queries(14):
        response = staff_client.get(reverse("pledges:pledge_list"), {"per_page": 50})
    assert len(response.context["object_list"]) == rows


# --- The city page section -------------------------------------------------------------------


def render_city_section(city, user):
    request = RequestFactory().get("/")
    request.user = user
    template = engines["django"].from_string('{% include "pledges/_city_section.html" %}')
    from django.contrib.auth.context_processors import PermWrapper

    return template.render({"city": city, "request": request, "perms": PermWrapper(user)})


def test_city_section_lists_the_citys_pledges_with_status_progress_and_add_link(
    staff_user, django_assert_max_num_queries
):
    city = CityFactory(name="Montréal")
    pledge = PledgeFactory(city=city, title="Language classes for newcomers")
    add_update(pledge, 35)
    PledgeFactory(title="Someone else's pledge")
    staff_user = type(staff_user).objects.get(pk=staff_user.pk)
    staff_user.get_all_permissions()  # warm the permission cache, as the page would
    with django_assert_max_num_queries(3):
        html = render_city_section(city, staff_user)
    assert "Language classes for newcomers" in html
    assert "Someone else" not in html
    assert "In progress" in html and "35 %" in html
    assert f"{reverse('pledges:pledge_create')}?city={city.pk}" in html


def test_city_section_links_to_all_pledges_when_there_are_many(staff_user):
    city = CityFactory()
    for i in range(12):
        PledgeFactory(city=city, title=f"Pledge {i:02}")
    html = render_city_section(city, staff_user)
    assert html.count('class="list-group-item"') == 10
    assert f"All 12 pledges of {city.name}" in html


# --- Demo data -------------------------------------------------------------------------------


def test_demo_pledges_are_a_realistic_mix_and_seeding_again_adds_nothing():
    import io

    from cities import demo as cities_demo
    from engagements.models import Process
    from pledges import demo as pledges_demo
    from pledges.selectors import stalled_q

    for username in ("amina", "lucas", "sofia", "priya", "jon"):
        UserFactory(username=username)
    cities_demo.seed(scale=0, stdout=io.StringIO())
    imrf = EventFactory(
        name="International Migration Review Forum 2022",
        process=Process.IMRF,
        start_date=datetime.date(2022, 5, 17),
    )
    pledges_demo.seed(scale=0, stdout=io.StringIO())

    pledges = Pledge.objects.all()
    assert pledges.count() >= 15
    at_imrf = pledges.filter(event=imrf)
    assert at_imrf.count() >= 8
    assert not at_imrf.exclude(frameworks__kind=Framework.Kind.CALL_TO_LOCAL_ACTION).exists()
    statuses = set(pledges.values_list("status", flat=True))
    assert {"achieved", "in_progress", "announced", "stalled", "withdrawn"} <= statuses
    assert pledges.filter(stalled_q()).count() >= 3
    assert pledges.exclude(stalled_q()).filter(status="in_progress").count() >= 3
    assert not pledges.filter(owner=None).exists()

    counts = (pledges.count(), PledgeUpdate.objects.count())
    pledges_demo.seed(scale=0, stdout=io.StringIO())
    assert (Pledge.objects.count(), PledgeUpdate.objects.count()) == counts
