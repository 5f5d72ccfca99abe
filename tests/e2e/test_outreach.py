import pytest
from django.core import mail
from django.utils import timezone

from cities.models import Country
from crm.core.roles import MANAGER, PROGRAM_STAFF
from outreach.models import Campaign, CampaignRecipient
from outreach.services import reminders_create_due, unsubscribe_token

from ..factories import CityFactory, ContactFactory, CountryFactory, EngagementFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_bell_counts_my_reminders_and_the_list_marks_them_read(page, login, screenshot):
    user = login(PROGRAM_STAFF)
    EngagementFactory(owner=user, follow_up_date=timezone.localdate(), summary="Send the MoU")
    EngagementFactory(owner=user, follow_up_date=timezone.localdate(), summary="Call Freetown")
    reminders_create_due()

    page.goto("/")
    bell = page.locator("[data-testid=notification-bell]")
    assert bell.locator("[data-testid=unread-count]").inner_text() == "2"
    bell.click()
    page.wait_for_url("**/outreach/notifications/")
    items = page.locator("[data-testid=notification-list] .list-group-item")
    assert items.count() == 2
    screenshot("outreach-notifications")

    page.locator("button:text('Mark read')").first.click()
    assert page.locator("[data-testid=unread-count]").inner_text() == "1"
    # Following the one still unread opens its record and marks it read.
    page.locator("[data-testid=notification-list] .list-group-item-primary a").click()
    assert "/engagements/" in page.url
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=notification-bell] [data-testid=unread-count]").count() == 0

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/outreach/preferences/")
    page.check("input[value=digest]")
    page.check("input[value=pledge_check_in]")
    page.click("button:text('Save')")
    assert "preferences were saved" in page.locator("main").inner_text()
    screenshot("outreach-preferences-phone")


def test_a_manager_writes_previews_tests_and_sends_a_campaign(page, login, screenshot):
    kenya = CountryFactory(code="KE", name="Kenya", region=Country.Region.AFRICA)
    nairobi = CityFactory(name="Nairobi", country=kenya)
    ContactFactory(first_name="Wanjiru", city=nairobi, is_focal_point=True)
    ContactFactory(first_name="Otieno", city=nairobi)
    ContactFactory(first_name="Refused", city=nairobi, consent_to_outreach=False)
    ContactFactory(first_name="Elsewhere", city=CityFactory(name="Lima"))
    manager = login(MANAGER, username="priya")

    page.goto("/outreach/campaigns/new/")
    page.fill("input[name=name]", "Nairobi check-in")
    page.fill("input[name=subject]", "{{ city }} and the GFMD")
    page.fill("textarea[name=body]", "Dear {{ first_name }},\n\nWill {{ city }} join us?")
    page.select_option("select[name=region]", "africa")
    screenshot("outreach-campaign-form")
    page.click("button:text('Save and preview')")
    page.wait_for_url("**/outreach/campaigns/*/")

    assert page.locator("[data-testid=audience-count]").inner_text() == "2"
    preview = page.locator("[data-testid=campaign-preview]").inner_text()
    assert "Nairobi and the GFMD" in preview and "Will Nairobi join us?" in preview
    assert "<p>" not in preview  # rendered HTML, not shown as markup
    assert page.locator("[data-testid=audience-summary]").inner_text() == "Region: Africa"
    screenshot("outreach-campaign-preview")

    page.click("button:text('Send a test to me')")
    assert f"on its way to {manager.email}" in page.locator("main").inner_text()
    assert [m.to for m in mail.outbox] == [[manager.email]]

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=send-campaign]")
    page.wait_for_selector("[data-testid=recipient-table]")
    assert page.locator("[data-testid=campaign-status]").inner_text() == "Sent"
    assert page.locator("[data-testid=recipient-table] tbody tr").count() == 2
    screenshot("outreach-campaign-sent")
    campaign = Campaign.objects.get()
    assert set(campaign.recipients.values_list("status", flat=True)) == {"sent"}
    assert len(mail.outbox) == 3


def test_a_contact_unsubscribes_in_one_click_without_logging_in(page, screenshot):
    contact = ContactFactory(email="wanjiru@nairobi.example")
    page.goto(f"/outreach/unsubscribe/{unsubscribe_token(contact)}/")
    assert "wanjiru@nairobi.example" in page.locator("main").inner_text()
    page.click("[data-testid=confirm-unsubscribe]")
    page.wait_for_selector("[data-testid=unsubscribed]")
    screenshot("outreach-unsubscribed")
    contact.refresh_from_db()
    assert contact.unsubscribed_at is not None
    assert not CampaignRecipient.objects.exists()
