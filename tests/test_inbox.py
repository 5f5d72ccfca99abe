"""The email inbox review, dropped .eml files, and what an emailed engagement shows."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cities.models import Contact
from engagements.models import Engagement, InboundEmail
from engagements.services import inbound_email_record

from .factories import CityFactory, ContactFactory, EngagementFactory, UserFactory
from .mail_samples import message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def freetown():
    return CityFactory(name="Freetown")


@pytest.fixture
def maria(freetown):
    return ContactFactory(first_name="Maria", email="maria@freetown.example", city=freetown)


def _waiting_email(**kwargs):
    defaults = {
        "sender": "Someone New <new@elsewhere.example>",
        "to": "maria@freetown.example",
        "subject": "An offer",
        "body": "Hello, we would like to work with you.",
    }
    email, _ = inbound_email_record(raw=message(**{**defaults, **kwargs}).as_bytes())
    return email


def test_a_reviewer_logs_a_waiting_email_with_the_people_and_cities_they_pick(
    staff_client, staff_user, maria, freetown
):
    email = _waiting_email()
    page = staff_client.get(reverse("engagements:inbox_review", args=[email.pk]))
    assert page.status_code == 200
    assert "Not sent or forwarded by a staff user" in page.content.decode()

    response = staff_client.post(
        reverse("engagements:inbox_review", args=[email.pk]),
        {"owner": staff_user.pk, "cities": [freetown.pk], "contacts": [maria.pk]},
    )

    engagement = Engagement.objects.get()
    assert response.status_code == 302 and response.url == engagement.get_absolute_url()
    assert engagement.kind == "email" and engagement.summary == "An offer"
    assert engagement.notes == "Hello, we would like to work with you."
    assert list(engagement.cities.all()) == [freetown]
    assert list(engagement.contacts.all()) == [maria]
    email.refresh_from_db()
    assert email.status == "logged" and email.reviewed_by == staff_user


def test_the_review_page_suggests_the_known_people_and_their_cities(staff_client, maria, freetown):
    email = _waiting_email(cc="Maria <maria@freetown.example>")

    form = staff_client.get(reverse("engagements:inbox_review", args=[email.pk])).context["form"]

    assert form.initial["contacts"] == [maria.pk]
    assert form.initial["cities"] == [freetown.pk]


def test_a_stale_review_changes_nothing(staff_client, staff_user, freetown):
    email = _waiting_email()
    staff_client.post(reverse("engagements:inbox_discard", args=[email.pk]))

    response = staff_client.post(
        reverse("engagements:inbox_review", args=[email.pk]),
        {"owner": staff_user.pk, "cities": [freetown.pk]},
        follow=True,
    )

    assert Engagement.objects.count() == 0
    assert "already discarded" in response.content.decode()


def test_logging_needs_a_city_and_changes_nothing_without_one(staff_client, staff_user):
    email = _waiting_email()

    response = staff_client.post(
        reverse("engagements:inbox_review", args=[email.pk]), {"owner": staff_user.pk}
    )

    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert Engagement.objects.count() == 0
    assert InboundEmail.objects.get().status == "review"


def test_discarding_logs_nothing_and_deletes_the_text_and_files(
    staff_client, django_capture_on_commit_callbacks
):
    email = _waiting_email(attachments=[("cv.pdf", b"%PDF-cv", "application/pdf")])
    stored = email.attachments.get().file.path
    raw = email.raw.path

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("engagements:inbox_discard", args=[email.pk]))

    email.refresh_from_db()
    assert email.status == "discarded" and email.body == "" and not email.raw
    assert email.attachments.count() == 0
    import os

    assert not os.path.exists(stored) and not os.path.exists(raw)
    assert Engagement.objects.count() == 0
    # Its Message-ID stays, so the same message is never read in again.
    again, created = inbound_email_record(raw=message(message_id=email.message_key).as_bytes())
    assert not created and again.pk == email.pk


def test_a_sender_can_be_added_as_a_person_from_the_review(staff_client, freetown):
    email = _waiting_email()

    staff_client.post(
        reverse("engagements:inbox_add_person", args=[email.pk]),
        {
            "first_name": "Someone",
            "last_name": "New",
            "email": "new@elsewhere.example",
            "city": freetown.pk,
        },
    )

    person = Contact.objects.get(email="new@elsewhere.example")
    assert person.city == freetown
    page = staff_client.get(reverse("engagements:inbox_review", args=[email.pk]))
    assert page.context["form"].initial["contacts"] == [person.pk]


def test_people_without_a_role_cannot_see_the_inbox(client):
    client.force_login(UserFactory())
    email = _waiting_email()

    assert client.get(reverse("engagements:inbox")).status_code == 403
    assert client.get(reverse("engagements:inbox_review", args=[email.pk])).status_code == 403
    assert client.post(reverse("engagements:inbox_discard", args=[email.pk])).status_code == 403
    assert InboundEmail.objects.get().status == "review"


def test_the_inbox_lists_waiting_emails_by_default(staff_client, maria):
    waiting = _waiting_email(subject="Waiting one")
    UserFactory(email="ana@mmc.example")
    logged, _ = inbound_email_record(
        raw=message(sender="ana@mmc.example", subject="Logged one").as_bytes()
    )
    assert logged.status == "logged"

    default = staff_client.get(reverse("engagements:inbox"))
    everything = staff_client.get(reverse("engagements:inbox"), {"status": ""})

    assert list(default.context["object_list"]) == [waiting]
    assert set(everything.context["object_list"]) == {waiting, logged}


def test_the_inbox_list_runs_a_bounded_number_of_queries(
    staff_client, django_assert_max_num_queries
):
    for number in range(30):
        _waiting_email(subject=f"Offer {number}")
    with django_assert_max_num_queries(12):
        response = staff_client.get(reverse("engagements:inbox"), {"per_page": 50})
    assert len(response.context["object_list"]) == 30


# --- What an emailed engagement shows ------------------------------------------------------


def test_an_emailed_engagement_lists_its_files_and_those_not_kept(client, settings, maria):
    settings.CRM_INBOX_ATTACHMENT_MAX_MB = 0.001
    ana = UserFactory(email="ana@mmc.example")
    email, _ = inbound_email_record(
        raw=message(
            attachments=[
                ("agenda.pdf", b"%PDF-agenda", "application/pdf"),
                ("video.pdf", b"x" * 2000, "application/pdf"),
            ]
        ).as_bytes()
    )
    client.force_login(ana)
    from django.contrib.auth.models import Group

    ana.groups.add(Group.objects.get(name="Program staff"))

    page = client.get(email.engagement.get_absolute_url()).content.decode()

    assert "Logged from the CRM mailbox" in page
    assert "agenda.pdf" in page
    assert "video.pdf" in page and "not kept: larger than 0.001 MB" in page
    download = client.get(
        reverse("engagements:email_attachment", args=[email.attachments.get().pk])
    )
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="agenda.pdf"')
    assert b"".join(download.streaming_content) == b"%PDF-agenda"


def test_attachments_need_a_login(client, maria):
    UserFactory(email="ana@mmc.example")
    email, _ = inbound_email_record(
        raw=message(attachments=[("a.pdf", b"%PDF", "application/pdf")]).as_bytes()
    )

    response = client.get(
        reverse("engagements:email_attachment", args=[email.attachments.get().pk])
    )

    assert response.status_code == 302 and "/login" in response.url


def test_the_engagement_list_filters_engagements_logged_from_email(staff_client, maria):
    UserFactory(email="ana@mmc.example")
    emailed, _ = inbound_email_record(raw=message(subject="By email").as_bytes())
    typed = EngagementFactory(summary="Typed in")
    url = reverse("engagements:engagement_list")

    assert list(staff_client.get(url, {"from_email": "true"}).context["object_list"]) == [
        emailed.engagement
    ]
    assert list(staff_client.get(url, {"from_email": "false"}).context["object_list"]) == [typed]


def test_an_email_from_a_staff_user_to_someone_unknown_waits_with_its_reason(db):
    UserFactory(email="ana@mmc.example")

    email, _ = inbound_email_record(raw=message(to="stranger@nowhere.example").as_bytes())

    assert email.status == "review" and email.reason == "no_person"
    assert Engagement.objects.count() == 0


def test_a_person_without_a_city_makes_the_email_wait_for_a_city(db):
    UserFactory(email="ana@mmc.example")
    ContactFactory(email="maria@freetown.example", city=None)

    email, _ = inbound_email_record(raw=message().as_bytes())

    assert email.status == "review" and email.reason == "no_city"


def test_colleagues_and_the_crm_mailbox_are_not_taken_for_people(db, settings, maria):
    settings.CRM_INBOX_ADDRESS = "crm@mmc.example"
    UserFactory(email="ana@mmc.example")
    UserFactory(email="li@mmc.example")

    email, _ = inbound_email_record(
        raw=message(to="maria@freetown.example", cc="li@mmc.example, crm@mmc.example").as_bytes()
    )

    assert list(email.engagement.contacts.all()) == [maria]


# --- Dropping an .eml onto a page ----------------------------------------------------------


def _eml(msg, name="message.eml"):
    return SimpleUploadedFile(name, msg.as_bytes(), content_type="message/rfc822")


def test_an_eml_dropped_on_a_city_page_is_logged_by_the_person_who_dropped_it(
    staff_client, staff_user, freetown
):
    city_page = freetown.get_absolute_url()
    assert 'data-testid="email-drop"' in staff_client.get(city_page).content.decode()
    msg = message(sender="Someone <someone@elsewhere.example>", subject="Letter from the mayor")

    response = staff_client.post(
        reverse("engagements:email_upload"),
        {"file": _eml(msg), "city": freetown.pk, "next": city_page},
    )

    engagement = Engagement.objects.get()
    assert response.url == engagement.get_absolute_url()
    assert engagement.owner == staff_user and engagement.summary == "Letter from the mayor"
    assert list(engagement.cities.all()) == [freetown]
    assert engagement.email.source == "upload"


def test_an_email_dropped_twice_is_logged_once(staff_client, freetown):
    msg = message(sender="someone@elsewhere.example")
    url = reverse("engagements:email_upload")
    staff_client.post(url, {"file": _eml(msg), "city": freetown.pk})

    response = staff_client.post(url, {"file": _eml(msg), "city": freetown.pk}, follow=True)

    assert Engagement.objects.count() == 1
    assert "was already in the CRM" in response.content.decode()


def test_a_file_that_is_not_an_email_is_refused_and_changes_nothing(staff_client, freetown):
    page = freetown.get_absolute_url()
    response = staff_client.post(
        reverse("engagements:email_upload"),
        {"file": SimpleUploadedFile("notes.docx", b"PK"), "city": freetown.pk, "next": page},
        follow=True,
    )

    assert "This is not an email file" in response.content.decode()
    assert InboundEmail.objects.count() == 0 and Engagement.objects.count() == 0


def test_an_outlook_msg_dropped_on_a_city_page_is_logged_like_an_email(
    staff_client, staff_user, freetown, maria
):
    from datetime import UTC, datetime

    from .outlook_file import make_msg

    data = make_msg(
        subject="Signed joint statement",
        sender_name="Maria Focal",
        sender_email="maria@freetown.example",
        to="Ana Staff <ana@mmc.example>",
        body="Dear Ana,\r\n\r\nHere it is, signed.\r\n\r\nOn Mon, Ana wrote:\r\n> Could you sign?",
        sent_at=datetime(2024, 5, 14, 16, 0, tzinfo=UTC),
        message_id="<signed-statement@outlook.example>",
        attachments=[("statement.pdf", b"%PDF-1.4 " + b"x" * 5000, "application/pdf")],
    )

    staff_client.post(
        reverse("engagements:email_upload"),
        {"file": SimpleUploadedFile("Signed.msg", data), "city": freetown.pk},
    )

    engagement = Engagement.objects.get()
    assert engagement.summary == "Signed joint statement"
    assert str(engagement.date) == "2024-05-14"
    assert engagement.notes == "Dear Ana,\n\nHere it is, signed."
    assert engagement.owner == staff_user
    assert list(engagement.contacts.all()) == [maria]
    assert [a.filename for a in engagement.email.attachments.all()] == ["statement.pdf"]
    # The same message arriving later through the mailbox is recognised by its Message-ID.
    again, created = inbound_email_record(
        raw=message(message_id="<signed-statement@outlook.example>").as_bytes()
    )
    assert not created and again.engagement == engagement


def test_a_broken_msg_file_is_refused_and_changes_nothing(staff_client, freetown):
    response = staff_client.post(
        reverse("engagements:email_upload"),
        {"file": SimpleUploadedFile("broken.msg", b"not an outlook file"), "city": freetown.pk},
        follow=True,
    )

    assert "could not be read as an Outlook email" in response.content.decode()
    assert InboundEmail.objects.count() == 0
