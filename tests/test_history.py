import pytest

from crm.core.history import history_entries
from engagements.models import TARequest
from engagements.services import ta_request_transition

from .factories import CityNetworkFactory, FrameworkFactory, PledgeFactory, TARequestFactory

pytestmark = pytest.mark.django_db


def test_a_workflow_step_shows_which_status_changed(staff_user):
    ta_request = TARequestFactory()
    ta_request_transition(
        ta_request=ta_request, to_status=TARequest.Status.ACCEPTED, by=staff_user, comment="ok"
    )
    latest = history_entries(TARequest.objects.get(pk=ta_request.pk))[0]
    assert latest.action == "changed"
    assert ("Status", "Received", "Accepted") in latest.changes


def test_references_and_links_are_shown_by_name_not_id(staff_user):
    pledge = PledgeFactory(title="Welcome centre")
    framework = FrameworkFactory(title="Inclusion campaign")
    pledge.frameworks.add(framework)
    pledge.progress_percent = 0
    pledge.save()
    pledge.owner = staff_user
    pledge.progress_percent = 40
    pledge.save()

    changes = history_entries(pledge)[0].changes
    assert ("Owner", str(pledge.history.earliest().owner), str(staff_user)) in changes
    assert ("Progress percent", "0 %", "40 %") in changes


def test_a_deleted_reference_is_named_as_deleted(staff_user):
    from .factories import CityFactory

    city = CityFactory()
    network = CityNetworkFactory(name="Short-lived network")
    city.networks.add(network)  # records a new version of the city
    network_pk = network.pk
    network.delete()

    changes = history_entries(city)[0].changes
    assert ("Networks", "—", f"#{network_pk} (deleted)") in changes
