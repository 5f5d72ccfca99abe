"""One-click unsubscribe: a signed link, no login, honoured by every later campaign."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from outreach.models import Campaign, CampaignRecipient
from outreach.services import campaign_audience, campaign_send, campaign_send_batch

from .factories import ContactFactory

pytestmark = pytest.mark.django_db


def _send_campaign(manager, name="News"):
    campaign = Campaign.objects.create(
        name=name, subject="News for {{ city }}", body="Hello {{ first_name }}", created_by=manager
    )
    campaign_send(campaign=campaign)
    campaign_send_batch(campaign_id=campaign.pk)
    return campaign


def _unsubscribe_path(message):
    url = re.search(r"unsubscribe: (\S+)", message.body).group(1)
    return url.removeprefix("http://127.0.0.1:8000")


def test_every_campaign_email_carries_the_link_and_one_click_headers(manager_user):
    contact = ContactFactory()
    _send_campaign(manager_user)
    [message] = mail.outbox
    path = _unsubscribe_path(message)
    assert path.startswith("/outreach/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe"] == f"<http://127.0.0.1:8000{path}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = message.alternatives[0][0]
    assert f'href="http://127.0.0.1:8000{path}"' in html
    contact.refresh_from_db()
    assert contact.unsubscribed_at is None


def test_the_link_asks_to_confirm_then_records_the_choice_without_login(manager_user):
    contact = ContactFactory(email="wanjiru@nairobi.example")
    _send_campaign(manager_user)
    path = _unsubscribe_path(mail.outbox[0])
    visitor = Client(enforce_csrf_checks=True)  # a stranger's browser: no session, no token

    page = visitor.get(path)
    assert page.status_code == 200
    assert "wanjiru@nairobi.example" in page.content.decode()
    contact.refresh_from_db()
    assert contact.unsubscribed_at is None  # looking (or a link scanner) changes nothing

    done = visitor.post(path)
    assert done.status_code == 200
    assert "You are unsubscribed" in done.content.decode()
    contact.refresh_from_db()
    assert contact.unsubscribed_at is not None
    first = contact.unsubscribed_at
    visitor.post(path)  # twice is harmless
    contact.refresh_from_db()
    assert contact.unsubscribed_at == first


def test_rfc8058_one_click_post_from_a_mail_program(manager_user):
    contact = ContactFactory()
    _send_campaign(manager_user)
    path = _unsubscribe_path(mail.outbox[0])
    response = Client(enforce_csrf_checks=True).post(
        path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.unsubscribed_at is not None


def test_a_tampered_or_cut_token_changes_nothing(manager_user):
    contact = ContactFactory()
    _send_campaign(manager_user)
    path = _unsubscribe_path(mail.outbox[0])
    other = ContactFactory()
    forged = path.replace(path.split("/")[3], str(other.pk) + path.split("/")[3][1:])
    for bad in (forged, path[:-6] + "/", "/outreach/unsubscribe/nonsense/"):
        response = Client().post(bad)
        assert response.status_code in (400, 404)
    contact.refresh_from_db()
    other.refresh_from_db()
    assert contact.unsubscribed_at is None and other.unsubscribed_at is None


def test_every_later_campaign_leaves_an_unsubscribed_contact_out(manager_user):
    leaving = ContactFactory()
    staying = ContactFactory()
    _send_campaign(manager_user, name="First")
    path = _unsubscribe_path(next(m for m in mail.outbox if m.to == [leaving.email]))
    Client().post(path)
    mail.outbox.clear()

    later = _send_campaign(manager_user, name="Second")
    assert [m.to for m in mail.outbox] == [[staying.email]]
    assert list(later.recipients.values_list("contact", flat=True)) == [staying.pk]
    assert leaving not in campaign_audience(later)
    assert CampaignRecipient.objects.filter(contact=leaving, campaign=later).count() == 0


def test_the_unsubscribe_page_is_public(client):
    contact = ContactFactory()
    from outreach.services import unsubscribe_token

    url = reverse("outreach:unsubscribe", kwargs={"token": unsubscribe_token(contact)})
    assert client.get(url).status_code == 200
