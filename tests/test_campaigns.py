"""Outreach campaigns: audience, preview, test send, throttled and resumable sending."""

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cities.models import City, Country
from outreach.models import Campaign, CampaignRecipient
from outreach.services import campaign_send, campaign_send_batch, render_merge
from outreach.tasks import scan_reminders

from .conftest import user_with_role
from .factories import CityFactory, CityNetworkFactory, ContactFactory, CountryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def audience():
    """Contacts across two regions; some may not receive outreach."""
    kenya = CountryFactory(code="KE", name="Kenya", region=Country.Region.AFRICA)
    colombia = CountryFactory(code="CO", name="Colombia", region=Country.Region.LATIN_AMERICA)
    network = CityNetworkFactory(name="Mayors Mechanism")
    nairobi = CityFactory(name="Nairobi", country=kenya)
    nairobi.networks.add(network)
    bogota = CityFactory(name="Bogotá", country=colombia, status=City.Status.PROSPECT)
    return {
        "wanjiru": ContactFactory(
            first_name="Wanjiru",
            last_name="Kamau",
            city=nairobi,
            is_focal_point=True,
            languages="en, sw",
        ),
        "otieno": ContactFactory(first_name="Otieno", city=nairobi, languages="en"),
        "no_consent": ContactFactory(city=nairobi, consent_to_outreach=False, is_focal_point=True),
        "unsubscribed": ContactFactory(
            city=nairobi, is_focal_point=True, unsubscribed_at=timezone.now()
        ),
        "no_email": ContactFactory(city=nairobi, email="", is_focal_point=True),
        "ana": ContactFactory(
            first_name="Ana", last_name="Gómez", city=bogota, is_focal_point=True, languages="es"
        ),
        "network": network,
    }


def _campaign(manager, **audience):
    return Campaign.objects.create(
        name="GFMD call",
        subject="{{ city }} at the GFMD",
        body="Dear {{ first_name }},\n\nWill {{ city }} join us?",
        audience={
            key: value if isinstance(value, list) else [value] for key, value in audience.items()
        },
        created_by=manager,
    )


def test_manager_writes_a_campaign_and_sees_count_and_preview(manager_client, audience):
    response = manager_client.post(
        reverse("outreach:campaign_create"),
        {
            "name": "Africa focal points",
            "subject": "Hello {{ city }}",
            "body": "Dear {{ first_name }},\nwe write to {{ full_name }} in {{ city }}, {{ country }}.",
            "region": "africa",
            "focal_point": "true",
        },
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == campaign.get_absolute_url()
    assert campaign.audience == {"region": ["africa"], "focal_point": ["true"]}

    page = manager_client.get(campaign.get_absolute_url())
    # Only Wanjiru: the other African focal points lack consent, are unsubscribed or have no email.
    assert page.context["audience_count"] == 1
    preview = page.context["preview"]
    assert preview["contact"] == audience["wanjiru"]
    assert preview["subject"] == "Hello Nairobi"
    assert "Dear Wanjiru,<br>we write to Wanjiru Kamau in Nairobi, Kenya." in preview["body"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"wanjiru", "otieno", "ana"}),
        ({"region": "latin_america"}, {"ana"}),
        ({"language": "en"}, {"wanjiru", "otieno"}),
        ({"focal_point": "true"}, {"wanjiru", "ana"}),
        ({"city_status": ["prospect"]}, {"ana"}),
    ],
)
def test_audience_filters_pick_recipients_who_may_receive_outreach(
    manager_user, audience, filters, expected
):
    from outreach.services import campaign_audience

    campaign = _campaign(manager_user, **filters)
    names = {c.first_name.lower() for c in campaign_audience(campaign)}
    assert names == {audience[key].first_name.lower() for key in expected}


def test_network_filter(manager_user, audience):
    from outreach.services import campaign_audience

    campaign = _campaign(manager_user, network=str(audience["network"].pk))
    assert {c.first_name for c in campaign_audience(campaign)} == {"Wanjiru", "Otieno"}


def test_a_deleted_filter_choice_never_widens_the_audience(manager_user, audience):
    from outreach.services import campaign_audience

    campaign = _campaign(manager_user, network=str(audience["network"].pk))
    audience["network"].delete()
    assert list(campaign_audience(campaign)) == []


def test_unknown_merge_fields_and_template_tags_are_refused(manager_client, audience):
    response = manager_client.post(
        reverse("outreach:campaign_create"),
        {
            "name": "Bad",
            "subject": "Hi {{ mayor }}",
            "body": "{% debug %} {{ settings.SECRET_KEY }}",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "Unknown merge field: {{ mayor }}" in errors["subject"][0]
    assert any("{{ settings.SECRET_KEY }}" in e for e in errors["body"])
    assert any("Template tags" in e for e in errors["body"])
    assert not Campaign.objects.exists()


def test_merge_fields_are_escaped_in_html_and_plain_in_text():
    contact = ContactFactory(first_name="<b>Bob</b> & Co", city=CityFactory(name="Zürich"))
    assert render_merge("Hi {{ first_name }}", contact) == "Hi <b>Bob</b> & Co"
    html = render_merge("<i>Hi</i> {{first_name}} from {{ city }}", contact, html=True)
    assert html == "<p>&lt;i&gt;Hi&lt;/i&gt; &lt;b&gt;Bob&lt;/b&gt; &amp; Co from Zürich</p>"


def test_program_staff_cannot_see_or_send_campaigns(audience, manager_user):
    campaign = _campaign(manager_user)
    client = Client()
    client.force_login(user_with_role("Program staff", username="amina"))
    assert client.get(reverse("outreach:campaign_list")).status_code == 403
    assert client.get(campaign.get_absolute_url()).status_code == 403
    assert client.post(reverse("outreach:campaign_send", args=[campaign.pk])).status_code == 403
    assert mail.outbox == []


def test_send_a_test_to_myself(
    manager_client, manager_user, audience, django_capture_on_commit_callbacks
):
    campaign = _campaign(manager_user, region="latin_america")
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(reverse("outreach:campaign_test", args=[campaign.pk]))
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [manager_user.email]
    assert message.subject == "[Test] Bogotá at the GFMD"
    assert "Dear Ana," in message.body
    assert not CampaignRecipient.objects.exists()
    assert Campaign.objects.get().status == Campaign.Status.DRAFT


def test_sending_reaches_only_consenting_contacts_and_keeps_each_status(
    manager_client, manager_user, audience, django_capture_on_commit_callbacks
):
    campaign = _campaign(manager_user, region="africa")
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("outreach:campaign_send", args=[campaign.pk]))
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [audience["wanjiru"].email, audience["otieno"].email]
    )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert set(campaign.recipients.values_list("status", flat=True)) == {"sent"}
    page = manager_client.get(campaign.get_absolute_url())
    counts = {label: n for _, label, n in page.context["status_counts"]}
    assert counts["Sent"] == 2 and counts["Queued"] == 0
    # A sent campaign is not sent again.
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("outreach:campaign_send", args=[campaign.pk]))
    assert len(mail.outbox) == 2


def test_an_empty_audience_is_refused_with_a_message(manager_client, manager_user, audience):
    campaign = _campaign(manager_user, region="europe")
    response = manager_client.post(
        reverse("outreach:campaign_send", args=[campaign.pk]), follow=True
    )
    assert "No contact in this audience can receive outreach" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_sending_is_throttled_and_resumes_with_only_the_queued(settings, manager_user):
    settings.CAMPAIGN_EMAILS_PER_MINUTE = 2
    for i in range(5):
        ContactFactory(first_name=f"C{i}")
    campaign = _campaign(manager_user)
    start = timezone.now()
    campaign_send(campaign=campaign, now=start)  # rows made; batch queued after commit (none here)

    first = campaign_send_batch(campaign_id=campaign.pk, now=start)
    assert (first.sent, first.remaining) == (2, 3)
    # Within the same minute another batch (a resume, a second worker) sends nothing.
    again = campaign_send_batch(campaign_id=campaign.pk, now=start + datetime.timedelta(seconds=30))
    assert again.sent == 0 and len(mail.outbox) == 2

    # Pressing "send" again only resumes: the queued ones, never the sent.
    campaign_send(campaign=campaign, now=start + datetime.timedelta(seconds=40))
    second = campaign_send_batch(campaign_id=campaign.pk, now=start + datetime.timedelta(minutes=1))
    third = campaign_send_batch(campaign_id=campaign.pk, now=start + datetime.timedelta(minutes=2))
    assert (second.sent, third.sent, third.remaining) == (2, 1, 0)
    assert len(mail.outbox) == 5
    assert len({m.to[0] for m in mail.outbox}) == 5
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_a_stalled_campaign_is_resumed_by_the_scan(settings, manager_user):
    settings.CAMPAIGN_EMAILS_PER_MINUTE = 10
    ContactFactory()
    ContactFactory()
    campaign = _campaign(manager_user)
    campaign_send(campaign=campaign)  # the batch task never ran (no commit in this test)
    assert mail.outbox == []
    scan_reminders.delay()
    assert len(mail.outbox) == 2
    assert Campaign.objects.get().status == Campaign.Status.SENT


def test_a_contact_who_unsubscribes_after_the_send_started_is_skipped(manager_user):
    stays = ContactFactory()
    leaves = ContactFactory()
    campaign = _campaign(manager_user)
    campaign_send(campaign=campaign)
    leaves.unsubscribed_at = timezone.now()
    leaves.save()
    result = campaign_send_batch(campaign_id=campaign.pk)
    assert (result.sent, result.skipped) == (1, 1)
    assert [m.to for m in mail.outbox] == [[stays.email]]
    assert CampaignRecipient.objects.get(contact=leaves).status == "skipped"


def test_a_refused_address_is_failed_and_listed_for_managers(
    manager_client, manager_user, settings
):
    settings.EMAIL_BACKEND = "tests.test_campaigns.RefusingBackend"
    ContactFactory(email="bounce@nowhere.example")
    campaign = _campaign(manager_user)
    campaign_send(campaign=campaign)
    result = campaign_send_batch(campaign_id=campaign.pk)
    assert (result.sent, result.failed, result.remaining) == (0, 1, 0)
    recipient = CampaignRecipient.objects.get()
    assert recipient.status == "failed" and "bounce@nowhere.example" in recipient.last_error
    page = manager_client.get(reverse("outreach:failed_deliveries"), {"kind": "campaign"})
    assert "bounce@nowhere.example" in page.content.decode()


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: (550, b"5.1.1 No such user")})

    def open(self):
        return True

    def close(self):
        pass


@pytest.mark.parametrize("rows", [5, 50])
def test_campaign_pages_queries_are_bounded(
    manager_client, manager_user, django_assert_max_num_queries, rows
):
    for i in range(rows):
        Campaign.objects.create(name=f"C{i}", subject="s", body="b", created_by=manager_user)
        ContactFactory()
    with django_assert_max_num_queries(10):
        response = manager_client.get(reverse("outreach:campaign_list"), {"per_page": 50})
    assert len(response.context["object_list"]) == rows
    campaign = Campaign.objects.first()
    campaign_send(campaign=campaign)
    with django_assert_max_num_queries(12):
        response = manager_client.get(campaign.get_absolute_url())
    assert response.context["page_obj"].paginator.count == rows


def test_a_recipient_left_sending_by_a_killed_worker_is_sent_once_by_the_next_scan(
    manager_user,
):
    first, second = ContactFactory(), ContactFactory()
    campaign = _campaign(manager_user)
    campaign_send(campaign=campaign)
    # A worker claimed the first recipient, then died before sending; an hour has passed.
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    CampaignRecipient.objects.filter(contact=first).update(status="sending", claimed_at=long_ago)
    Campaign.objects.filter(pk=campaign.pk).update(next_batch_at=long_ago)

    scan_reminders.delay()
    scan_reminders.delay()

    assert sorted(m.to[0] for m in mail.outbox) == sorted([first.email, second.email])
    assert set(CampaignRecipient.objects.values_list("status", flat=True)) == {"sent"}
