import datetime
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cities.models import Country
from crm.core.roles import PROGRAM_STAFF
from engagements.models import TARequest, TATransition
from engagements.services import TransitionRefused, ta_request_transition

from .conftest import require, user_with_role
from .factories import (
    CityFactory,
    CityNetworkFactory,
    CountryFactory,
    TARequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 11)
S = TARequest.Status


@pytest.fixture(autouse=True)
def _fixed_today(time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 11, 10, 0, tzinfo=datetime.UTC), tick=False)


def days(n):
    return TODAY + datetime.timedelta(days=n)


def move(ta, to_status, by, comment="", expected=None):
    return ta_request_transition(
        ta_request=ta,
        to_status=to_status,
        by=by,
        comment=comment,
        expected_status=ta.status if expected is None else expected,
    )


def with_status(status, **kwargs):
    """A request walked through the real workflow up to ``status``."""
    path = {
        S.RECEIVED: [],
        S.ACCEPTED: [S.ACCEPTED],
        S.IN_PROGRESS: [S.ACCEPTED, S.IN_PROGRESS],
        S.DELIVERED: [S.ACCEPTED, S.IN_PROGRESS, S.DELIVERED],
        S.CLOSED: [S.ACCEPTED, S.IN_PROGRESS, S.DELIVERED, S.CLOSED],
        S.DECLINED: [S.DECLINED],
    }[status]
    ta = TARequestFactory(**kwargs)
    by = ta.owner or UserFactory()
    for step in path:
        move(ta, step, by)
    return ta


# --- The workflow service -----------------------------------------------------------------------


def test_a_request_goes_through_the_whole_workflow_and_every_step_is_logged(staff_user):
    ta = TARequestFactory()
    assert ta.status == S.RECEIVED
    for step, comment in [
        (S.ACCEPTED, "Fits our 2026 plan"),
        (S.IN_PROGRESS, "Kick-off call held"),
        (S.DELIVERED, "Toolkit sent"),
        (S.CLOSED, ""),
    ]:
        move(ta, step, staff_user, comment)
        ta.refresh_from_db()
        assert ta.status == step
    assert ta.delivered_on == TODAY
    log = list(ta.transitions.order_by("at", "pk"))
    assert [(t.from_status, t.to_status) for t in log] == [
        (S.RECEIVED, S.ACCEPTED),
        (S.ACCEPTED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.DELIVERED),
        (S.DELIVERED, S.CLOSED),
    ]
    assert {t.by for t in log} == {staff_user}
    assert log[0].comment == "Fits our 2026 plan"
    assert log[0].at.date() == TODAY


@pytest.mark.parametrize("start", [S.RECEIVED, S.ACCEPTED])
def test_a_request_can_be_declined_while_received_or_accepted(start, staff_user):
    ta = with_status(start)
    move(ta, S.DECLINED, staff_user, "Out of scope")
    ta.refresh_from_db()
    assert ta.status == S.DECLINED
    assert ta.delivered_on is None


@pytest.mark.parametrize(
    "start, forbidden",
    [
        (S.RECEIVED, S.IN_PROGRESS),
        (S.RECEIVED, S.DELIVERED),
        (S.RECEIVED, S.CLOSED),
        (S.ACCEPTED, S.DELIVERED),
        (S.IN_PROGRESS, S.DECLINED),
        (S.IN_PROGRESS, S.ACCEPTED),
        (S.DELIVERED, S.IN_PROGRESS),
        (S.CLOSED, S.RECEIVED),
        (S.DECLINED, S.ACCEPTED),
        (S.RECEIVED, S.RECEIVED),
    ],
)
def test_a_forbidden_transition_is_refused_and_changes_nothing(start, forbidden, staff_user):
    ta = with_status(start)
    before = (ta.transitions.count(), ta.history.count(), ta.updated_at)
    with pytest.raises(TransitionRefused, match="cannot move to"):
        move(ta, forbidden, staff_user)
    ta.refresh_from_db()
    assert ta.status == start
    assert (ta.transitions.count(), ta.history.count(), ta.updated_at) == before


def test_a_stale_transition_is_refused_and_changes_nothing(staff_user):
    ta = TARequestFactory()
    seen_by_colleague = TARequest.objects.get(pk=ta.pk)  # opened the page while "received"
    move(ta, S.DECLINED, staff_user)
    # The colleague clicks "Accept" on the stale page: accepted is allowed from "received",
    # but the request is no longer received.
    with pytest.raises(TransitionRefused, match="by someone else"):
        move(seen_by_colleague, S.ACCEPTED, staff_user, expected=S.RECEIVED)
    ta.refresh_from_db()
    assert ta.status == S.DECLINED
    assert ta.transitions.count() == 1


def test_an_unknown_status_is_refused(staff_user):
    ta = TARequestFactory()
    with pytest.raises(TransitionRefused, match="not a TA request status"):
        move(ta, "done", staff_user)
    assert not ta.transitions.exists()


def test_each_transition_is_kept_in_history_with_who_made_it(staff_user):
    ta = TARequestFactory()
    move(ta, S.ACCEPTED, staff_user)
    latest = ta.history.first()
    assert latest.status == S.ACCEPTED
    assert latest.history_user == staff_user


def test_concurrent_clicks_cannot_both_win(transactional_db):
    require(connection.vendor == "postgresql", "row locks need PostgreSQL (DATABASE_URL)")
    ta = TARequestFactory()
    users = [UserFactory(), UserFactory()]
    barrier = threading.Barrier(2)
    outcomes = []

    def click(user, to_status):
        try:
            barrier.wait()
            move(TARequest.objects.get(pk=ta.pk), to_status, user, expected=S.RECEIVED)
            outcomes.append("ok")
        except TransitionRefused:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=click, args=(users[0], S.ACCEPTED)),
        threading.Thread(target=click, args=(users[1], S.DECLINED)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert TATransition.objects.filter(request=ta).count() == 1


# --- The pages ----------------------------------------------------------------------------------


def post_transition(client, ta, to_status, expected=None, comment=""):
    return client.post(
        reverse("engagements:ta_transition", args=[ta.pk]),
        {"to_status": to_status, "expected_status": expected or ta.status, "comment": comment},
        follow=True,
    )


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_moving_a_request_from_its_page(staff_client, staff_user):
    ta = TARequestFactory(topic="Reception centre design")
    response = post_transition(staff_client, ta, S.ACCEPTED, comment="Agreed with the city")
    assert response.redirect_chain[-1][0] == ta.get_absolute_url()
    assert messages_of(response) == ["“Reception centre design” is now Accepted."]
    ta.refresh_from_db()
    assert ta.status == S.ACCEPTED
    transition = ta.transitions.get()
    assert (transition.by, transition.comment) == (staff_user, "Agreed with the city")
    html = response.content.decode()
    assert "Agreed with the city" in html


def test_a_forged_transition_is_refused_with_a_message(staff_client):
    ta = TARequestFactory()
    response = post_transition(staff_client, ta, S.CLOSED)
    assert "cannot move to “Closed”" in messages_of(response)[0]
    ta.refresh_from_db()
    assert ta.status == S.RECEIVED
    assert not ta.transitions.exists()


def test_a_click_on_a_stale_page_is_refused_with_a_message(staff_client, staff_user):
    ta = TARequestFactory()
    move(ta, S.ACCEPTED, staff_user)
    response = post_transition(staff_client, ta, S.DECLINED, expected=S.RECEIVED)
    assert "by someone else" in messages_of(response)[0]
    ta.refresh_from_db()
    assert ta.status == S.ACCEPTED
    assert ta.transitions.count() == 1


def test_a_transition_without_the_seen_status_is_refused(staff_client):
    ta = TARequestFactory()
    response = staff_client.post(
        reverse("engagements:ta_transition", args=[ta.pk]), {"to_status": "accepted"}, follow=True
    )
    assert "Nothing was changed" in messages_of(response)[0]
    ta.refresh_from_db()
    assert ta.status == S.RECEIVED


def test_transition_refuses_get_and_users_without_a_role(client, staff_client):
    ta = TARequestFactory()
    url = reverse("engagements:ta_transition", args=[ta.pk])
    assert staff_client.get(url).status_code == 405
    client.force_login(UserFactory())
    data = {"to_status": "accepted", "expected_status": "received"}
    assert client.post(url, data).status_code == 403
    ta.refresh_from_db()
    assert ta.status == S.RECEIVED


@pytest.mark.parametrize(
    "status, offered",
    [
        (S.RECEIVED, {"accepted", "declined"}),
        (S.ACCEPTED, {"in_progress", "declined"}),
        (S.IN_PROGRESS, {"delivered"}),
        (S.DELIVERED, {"closed"}),
        (S.CLOSED, set()),
        (S.DECLINED, set()),
    ],
)
def test_only_allowed_transitions_are_offered(staff_client, status, offered):
    ta = with_status(status)
    html = staff_client.get(ta.get_absolute_url()).content.decode()
    buttons = {s for s in S.values if f'name="to_status" value="{s}"' in html}
    assert buttons == offered
    if offered:
        assert f'name="expected_status" value="{status}"' in html


def test_create_form_defaults_to_me_and_the_city_from_the_city_page(staff_client, staff_user):
    city = CityFactory(name="Amman")
    response = staff_client.get(reverse("engagements:ta_create"), {"city": city.pk})
    form = response.context["form"]
    assert str(form["owner"].value()) == str(staff_user.pk)
    assert str(form["city"].value()) == str(city.pk)
    assert "status" not in form.fields  # only the workflow changes the status


def test_creating_a_request(staff_client, staff_user):
    city = CityFactory()
    response = staff_client.post(
        reverse("engagements:ta_create"),
        {
            "city": city.pk,
            "topic": "Data on migrant workers",
            "priority": "high",
            "owner": staff_user.pk,
            "received_on": "2026-03-10",
            "due_date": "2026-04-10",
            "status": "closed",  # ignored: not a form field
        },
    )
    assert response.status_code == 302
    ta = TARequest.objects.get()
    assert (ta.status, ta.priority, ta.owner) == (S.RECEIVED, "high", staff_user)


def test_a_due_date_before_receipt_is_refused(staff_client, staff_user):
    response = staff_client.post(
        reverse("engagements:ta_create"),
        {
            "city": CityFactory().pk,
            "topic": "x",
            "priority": "low",
            "received_on": "2026-03-10",
            "due_date": "2026-03-01",
        },
    )
    assert response.status_code == 200
    assert "due_date" in response.context["form"].errors
    assert not TARequest.objects.exists()


# --- The list, its filters and the board --------------------------------------------------------


def listed(response):
    return {obj.pk for obj in response.context["object_list"]}


def test_list_filters(staff_client):
    europe = CountryFactory(code="GR", name="Greece", region=Country.Region.EUROPE)
    athens = CityFactory(name="Athens", country=europe)
    network = CityNetworkFactory()
    athens.networks.add(network)
    owner = UserFactory()
    overdue = TARequestFactory(city=athens, due_date=days(-2), priority="urgent", owner=owner)
    on_time = TARequestFactory(due_date=days(5), received_on=days(-40))
    late_but_closed = with_status(S.CLOSED, due_date=days(-30), received_on=days(-60))
    accepted = with_status(S.ACCEPTED, topic="Labour inclusion pilot")
    url = reverse("engagements:ta_list")
    assert listed(staff_client.get(url, {"overdue": "true"})) == {overdue.pk}
    assert listed(staff_client.get(url, {"overdue": "false"})) == {
        on_time.pk,
        late_but_closed.pk,
        accepted.pk,
    }
    assert listed(staff_client.get(url, {"status": ["received", "accepted"]})) == {
        overdue.pk,
        on_time.pk,
        accepted.pk,
    }
    assert listed(staff_client.get(url, {"owner": owner.pk})) == {overdue.pk}
    assert listed(staff_client.get(url, {"city": athens.pk})) == {overdue.pk}
    assert listed(staff_client.get(url, {"region": "europe"})) == {overdue.pk}
    assert listed(staff_client.get(url, {"network": network.pk})) == {overdue.pk}
    assert listed(staff_client.get(url, {"priority": "urgent"})) == {overdue.pk}
    assert listed(staff_client.get(url, {"q": "labour"})) == {accepted.pk}
    assert listed(staff_client.get(url, {"received_on_before": days(-35).isoformat()})) == {
        on_time.pk,
        late_but_closed.pk,
    }
    assert listed(staff_client.get(url, {"delivered_on_after": TODAY.isoformat()})) == {
        late_but_closed.pk
    }


def test_board_shows_each_request_in_its_status_column(staff_client):
    requests = {status: with_status(status, topic=f"Topic {status}") for status in S.values}
    response = staff_client.get(reverse("engagements:ta_board"))
    columns = {str(c["status"]): [ta.pk for ta in c["cards"]] for c in response.context["columns"]}
    assert list(columns) == list(S.values)
    for status, ta in requests.items():
        assert columns[status] == [ta.pk]
    html = response.content.decode()
    # Cards carry their allowed moves.
    received_column = html.split('data-testid="column-received"')[1].split("</section>")[0]
    assert 'value="accepted"' in received_column and 'value="closed"' not in received_column


def test_board_applies_the_list_filters(staff_client):
    mine = UserFactory()
    my_ta = TARequestFactory(owner=mine)
    TARequestFactory()
    response = staff_client.get(reverse("engagements:ta_board"), {"owner": mine.pk})
    cards = [ta.pk for column in response.context["columns"] for ta in column["cards"]]
    assert cards == [my_ta.pk]


def test_board_columns_are_capped_with_a_link_to_the_rest(staff_client):
    TARequestFactory.create_batch(33)
    response = staff_client.get(reverse("engagements:ta_board"))
    received = response.context["columns"][0]
    assert (len(received["cards"]), received["count"], received["more"]) == (30, 33, 3)
    assert "3 more in the list" in response.content.decode()


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured), response


@pytest.mark.parametrize("page", ["engagements:ta_list", "engagements:ta_board"])
def test_list_and_board_queries_do_not_grow_with_rows(
    staff_client, django_assert_max_num_queries, page
):
    url = reverse(page)
    owners = UserFactory.create_batch(3)
    for i in range(5):
        TARequestFactory(owner=owners[i % 3])
    small, _ = _queries(staff_client, url, {"per_page": 50})
    for i in range(45):
        TARequestFactory(owner=owners[i % 3], due_date=days(i - 20))
    with django_assert_max_num_queries(16):
        large, response = _queries(staff_client, url, {"per_page": 50})
    assert large == small
    assert "ta-card" in response.content.decode() or len(response.context["object_list"]) == 50


def test_program_staff_can_work_the_workflow(client):
    client.force_login(user_with_role(PROGRAM_STAFF))
    ta = TARequestFactory()
    post_transition(client, ta, S.ACCEPTED)
    ta.refresh_from_db()
    assert ta.status == S.ACCEPTED
