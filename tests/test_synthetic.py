import datetime
import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from cities.models import City, Contact
from crm.demo import synthetic
from engagements.models import Engagement, Event, Participation, TARequest, TATransition
from pledges.models import Pledge, PledgeUpdate

from .factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owners(db):
    return [UserFactory(username=name) for name in ("amina", "lucas", "priya")]


def _volume():
    return {
        "cities": City.objects.filter(name__startswith=synthetic.CITY_PREFIX).count(),
        "contacts": Contact.objects.filter(email__endswith="@synth.example.org").count(),
        "engagements": Engagement.objects.count(),
        "ta_requests": TARequest.objects.count(),
        "pledges": Pledge.objects.count(),
        "events": Event.objects.count(),
    }


def _fingerprint():
    """What a user would see of the data, independent of primary keys."""
    return (
        sorted(City.objects.values_list("name", "status", "country__code")),
        sorted(
            Engagement.objects.values_list(
                "date", "kind", "summary", "owner__username", "follow_up_date", "follow_up_done"
            )
        ),
        sorted(Engagement.cities.through.objects.values_list("engagement__summary", "city__name")),
        sorted(TARequest.objects.values_list("topic", "status", "received_on", "delivered_on")),
        sorted(Pledge.objects.values_list("title", "status", "progress_percent")),
    )


class _Rollback(Exception):
    pass


def test_one_unit_has_the_documented_volume(owners):
    added = synthetic.seed(scale=1)

    assert added == 1
    assert _volume() == {
        "cities": 10,
        "contacts": 200,
        "engagements": 2000,
        "ta_requests": 50,
        "pledges": 30,
        "events": 2,
    }
    assert Participation.objects.count() > 0
    assert Contact.objects.values("email").distinct().count() == 200
    assert all(city.country_id for city in City.objects.all())


def test_engagements_are_spread_over_three_years_with_mixed_follow_ups(owners):
    synthetic.seed(scale=1)
    today = timezone.localdate()

    dates = Engagement.objects.values_list("date", flat=True)
    assert min(dates) >= today - datetime.timedelta(days=3 * 365)
    assert max(dates) <= today
    assert Engagement.objects.values("kind").distinct().count() == len(Engagement.Kind)
    assert set(Engagement.objects.values_list("owner__username", flat=True)) == {
        "amina",
        "lucas",
        "priya",
    }

    counts = Engagement.objects.annotate(
        n_cities=Count("cities", distinct=True), n_contacts=Count("contacts", distinct=True)
    )
    assert set(counts.values_list("n_cities", flat=True)) == {1, 2}
    assert set(counts.values_list("n_contacts", flat=True)) == {0, 1, 2}

    open_ = Engagement.objects.filter(follow_up_done=False, follow_up_date__isnull=False)
    overdue_or_today = open_.filter(follow_up_date__lte=today).count()
    next_week = open_.filter(
        follow_up_date__gt=today, follow_up_date__lte=today + datetime.timedelta(days=7)
    ).count()
    assert 150 <= overdue_or_today <= 250  # ~10% of 2,000
    assert 60 <= next_week <= 140  # ~5%


def test_ta_requests_follow_the_workflow(owners):
    synthetic.seed(scale=1)

    assert set(TARequest.objects.values_list("status", flat=True)) == set(TARequest.Status)
    finished = TARequest.objects.filter(status__in=["delivered", "closed"])
    assert not finished.filter(delivered_on__isnull=True).exists()
    assert (
        not TARequest.objects.exclude(pk__in=finished).filter(delivered_on__isnull=False).exists()
    )
    for request in TARequest.objects.prefetch_related("transitions"):
        steps = sorted(request.transitions.all(), key=lambda t: (t.at, t.pk))
        if request.status == TARequest.Status.RECEIVED:
            assert steps == []
            continue
        assert steps[-1].to_status == request.status
        for earlier, later in zip(steps, steps[1:], strict=False):
            assert later.from_status == earlier.to_status
            assert later.to_status in TARequest.TRANSITIONS[earlier.to_status]
        if request.delivered_on:
            assert request.delivered_on >= request.received_on
    assert TATransition.objects.exists()


def test_pledges_have_frameworks_progress_and_some_are_stalled(owners):
    synthetic.seed(scale=1)
    six_months_ago = timezone.localdate() - datetime.timedelta(days=182)

    assert not Pledge.objects.filter(frameworks__isnull=True).exists()
    assert not Pledge.objects.filter(status="achieved").exclude(progress_percent=100).exists()
    stalled = Pledge.objects.filter(status="stalled")
    assert stalled.exists()
    assert not stalled.filter(last_update_on__gte=six_months_ago).exists()
    for pledge in Pledge.objects.exclude(last_update_on=None).prefetch_related("updates"):
        latest = max(pledge.updates.all(), key=lambda u: u.date)
        assert (latest.date, latest.percent) == (pledge.last_update_on, pledge.progress_percent)
    assert PledgeUpdate.objects.exists()


def test_running_the_same_scale_twice_adds_nothing_and_a_larger_scale_adds_the_difference(owners):
    assert synthetic.seed(scale=2) == 2
    after_two = _volume()

    assert synthetic.seed(scale=2) == 0
    assert _volume() == after_two

    assert synthetic.seed(scale=3) == 1
    assert _volume() == {key: value * 3 // 2 for key, value in after_two.items()}


def test_the_data_is_the_same_whatever_order_units_are_added_in(owners):
    try:
        with transaction.atomic():
            synthetic.seed(scale=2)
            all_at_once = _fingerprint()
            raise _Rollback
    except _Rollback:
        pass
    assert _volume()["engagements"] == 0

    synthetic.seed(scale=1)
    synthetic.seed(scale=2)
    assert _fingerprint() == all_at_once


def test_seed_demo_scale_option_adds_synthetic_volume_once(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("seed_demo", "--scale", "1", stdout=out)
    call_command("seed_demo", "--scale", "1", stdout=out)

    assert City.objects.filter(name__startswith=synthetic.CITY_PREFIX).count() == 10
    assert "1 units already present" in out.getvalue()
    # Owners are the demo team's members.
    assert set(Engagement.objects.values_list("owner__username", flat=True)) <= {
        "amina",
        "lucas",
        "sofia",
        "priya",
        "jon",
    }
