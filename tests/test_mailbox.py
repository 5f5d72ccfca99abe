"""The CRM mailbox, polled on a real IMAP server (Dovecot over TLS, see tests/imap_server.py):
BCC'd and forwarded emails become engagements once, whatever happens to the poll."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from engagements.models import Engagement, InboundEmail
from engagements.services import inbox_poll
from engagements.tasks import poll_inbox

from .conftest import require
from .factories import CityFactory, ContactFactory, UserFactory
from .mail_samples import attached_forward, gmail_forward, message

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def people(db):
    ana = UserFactory(username="ana", first_name="Ana", email="ana@mmc.example")
    freetown = CityFactory(name="Freetown")
    lisbon = CityFactory(name="Lisbon")
    maria = ContactFactory(first_name="Maria", email="maria@freetown.example", city=freetown)
    bob = ContactFactory(first_name="Bob", email="bob@lisbon.example", city=lisbon)
    return {"ana": ana, "freetown": freetown, "lisbon": lisbon, "maria": maria, "bob": bob}


def test_a_bccd_email_is_logged_as_an_email_engagement_and_moved(mailbox, people):
    mailbox.deliver(
        message(
            to="Maria Focal <maria@freetown.example>",
            cc="Bob <bob@lisbon.example>",
            bcc=mailbox.address,
            subject="Next steps on the city's migration strategy",
            body="Dear Maria,\n\nAs agreed, we will share the draft by Friday.\n\nAna",
        ).as_bytes()
    )

    result = poll_inbox()

    assert result["logged"] == 1 and result["error"] == ""
    engagement = Engagement.objects.get()
    assert engagement.kind == Engagement.Kind.EMAIL
    assert engagement.summary == "Next steps on the city's migration strategy"
    assert engagement.notes == "Dear Maria,\n\nAs agreed, we will share the draft by Friday.\n\nAna"
    assert str(engagement.date) == "2024-06-03"
    assert engagement.owner == people["ana"]
    assert set(engagement.contacts.all()) == {people["maria"], people["bob"]}
    assert set(engagement.cities.all()) == {people["freetown"], people["lisbon"]}
    # Read once, then out of the way: nothing left in the inbox, the message kept as processed.
    assert mailbox.uids("INBOX") == []
    assert len(mailbox.uids("CRM-processed")) == 1


def test_a_forward_is_logged_as_the_original_message(mailbox, people):
    original = message(
        sender="Maria Focal <maria@freetown.example>",
        to="Ana Staff <ana@mmc.example>",
        cc="Bob <bob@lisbon.example>",
        subject="Our city's pledge update",
        body="Dear Ana,\n\nHere is where we are on the pledge.\n\nMaria",
    )
    mailbox.deliver(gmail_forward(original, note="For the log.").as_bytes())

    poll_inbox()

    engagement = Engagement.objects.get()
    assert engagement.summary == "Our city's pledge update"  # not "Fwd: ..."
    assert engagement.owner == people["ana"]  # who forwarded it
    assert set(engagement.contacts.all()) == {people["maria"], people["bob"]}
    email = engagement.email
    assert email.from_address == "maria@freetown.example"
    assert email.forwarded_by == "ana@mmc.example"
    assert "Here is where we are on the pledge." in engagement.notes


def test_a_forward_as_attachment_keeps_the_originals_sender_date_and_files(mailbox, people):
    original = message(
        sender="Maria Focal <maria@freetown.example>",
        to="Ana Staff <ana@mmc.example>",
        subject="Signed statement",
        body="Attached, signed.",
        date=None,
        attachments=[("statement.pdf", b"%PDF-1.4 signed", "application/pdf")],
    )
    original.replace_header("Date", "Tue, 14 May 2024 18:30:00 -0400")
    mailbox.deliver(attached_forward(original).as_bytes())

    poll_inbox()

    engagement = Engagement.objects.get()
    assert engagement.summary == "Signed statement"
    assert str(engagement.date) == "2024-05-14"  # the original's day, in the server's zone (UTC)
    assert engagement.email.from_address == "maria@freetown.example"
    assert [a.filename for a in engagement.email.attachments.all()] == ["statement.pdf"]


def test_a_reply_thread_gives_one_engagement_per_message_each_with_its_own_words(mailbox, people):
    first = message(
        to="maria@freetown.example",
        bcc=mailbox.address,
        subject="Workshop dates",
        body="Would 12 June suit you?",
    )
    reply = message(
        sender="Maria Focal <maria@freetown.example>",
        to="ana@mmc.example",
        cc=mailbox.address,
        subject="Re: Workshop dates",
        in_reply_to=first["Message-ID"],
        body=(
            "12 June works for us.\n\n"
            "On Mon, 3 Jun 2024 at 10:00, Ana Staff <ana@mmc.example> wrote:\n"
            "> Would 12 June suit you?\n"
        ),
    )
    answer = message(
        to="maria@freetown.example",
        bcc=mailbox.address,
        subject="Re: Re: Workshop dates",
        in_reply_to=reply["Message-ID"],
        body="Great, see you then.\n\n> 12 June works for us.\n",
    )
    for msg in (first, reply, answer):
        mailbox.deliver(msg.as_bytes())

    poll_inbox()

    # Maria's own reply is not a staff member's: it waits for review; the two of Ana's log.
    logged = list(Engagement.objects.order_by("pk").values_list("notes", flat=True))
    assert logged == ["Would 12 June suit you?", "Great, see you then."]
    waiting = InboundEmail.objects.get(status=InboundEmail.Status.REVIEW)
    assert waiting.body == "12 June works for us."
    assert waiting.reason == InboundEmail.Reason.UNKNOWN_SENDER
    assert mailbox.uids("INBOX") == []


def test_an_email_from_an_unknown_sender_waits_for_review_and_logs_nothing(mailbox, people):
    mailbox.deliver(
        message(
            sender="Someone <someone@elsewhere.example>",
            to="maria@freetown.example",
            cc=mailbox.address,
            subject="Partnership offer",
        ).as_bytes()
    )

    result = poll_inbox()

    assert result["waiting"] == 1 and result["logged"] == 0
    assert Engagement.objects.count() == 0
    email = InboundEmail.objects.get()
    assert email.status == InboundEmail.Status.REVIEW
    assert email.reason == InboundEmail.Reason.UNKNOWN_SENDER
    assert mailbox.uids("INBOX") == []  # out of the inbox, waiting in the CRM instead


def test_an_attachment_over_the_cap_is_not_kept_and_the_engagement_says_so(
    mailbox, people, settings
):
    settings.CRM_INBOX_ATTACHMENT_MAX_MB = 1
    big = b"x" * (1024 * 1024 + 1)
    mailbox.deliver(
        message(
            to="maria@freetown.example",
            bcc=mailbox.address,
            attachments=[
                ("agenda.pdf", b"%PDF-1.4 agenda", "application/pdf"),
                ("recording.pdf", big, "application/pdf"),
                ("tool.exe", b"MZ", "application/octet-stream"),
            ],
        ).as_bytes()
    )

    poll_inbox()

    email = Engagement.objects.get().email
    assert [a.filename for a in email.attachments.all()] == ["agenda.pdf"]
    assert email.attachments.get().file.read() == b"%PDF-1.4 agenda"
    skipped = {item["name"]: item["reason"] for item in email.skipped_attachments}
    assert skipped == {
        "recording.pdf": "larger than 1 MB",
        "tool.exe": "files of type “exe” are not kept",
    }


def test_a_poll_that_runs_twice_logs_each_message_once(mailbox, people):
    msg = message(to="maria@freetown.example", bcc=mailbox.address)
    mailbox.deliver(msg.as_bytes())
    poll_inbox()
    # The same message arrives again (a second copy in the inbox, as after a failed move).
    mailbox.deliver(msg.as_bytes())

    second = poll_inbox()
    third = poll_inbox()

    assert Engagement.objects.count() == 1
    assert second["already"] == 1 and second["logged"] == 0
    assert third["read"] == 0
    assert mailbox.uids("INBOX") == []


def test_a_second_poll_while_one_runs_does_nothing(mailbox, people):
    from engagements.services import _lease_release, _lease_take

    mailbox.deliver(message(to="maria@freetown.example").as_bytes())
    token = _lease_take()  # a poll in progress on another worker
    try:
        assert inbox_poll().skipped == "another poll is running"
        assert Engagement.objects.count() == 0
    finally:
        _lease_release(token)
    assert inbox_poll().logged == 1


def test_a_mailbox_that_refuses_the_login_is_recorded_and_nothing_changes(
    mailbox, people, settings
):
    from engagements.models import InboxState

    mailbox.deliver(message(to="maria@freetown.example").as_bytes())
    settings.CRM_INBOX_PASSWORD = "wrong"

    result = inbox_poll()

    assert "LoginError" in result.error
    assert InboxState.objects.get().last_error == result.error
    assert Engagement.objects.count() == 0
    assert len(mailbox.uids("INBOX")) == 1


def test_the_server_certificate_is_verified(mailbox, people, settings):
    settings.CRM_INBOX_CA_FILE = ""  # the system's CAs do not know our self-signed server
    mailbox.deliver(message(to="maria@freetown.example").as_bytes())

    result = inbox_poll()

    assert "SSL" in result.error or "certificate" in result.error.lower()
    assert Engagement.objects.count() == 0


# --- A worker killed mid-poll ----------------------------------------------------------


KILLED_POLL = """
import os, signal, django
django.setup()
from engagements.mail.imap import Mailbox
move = Mailbox.move
calls = 0
def move_or_die(self, uids):
    global calls
    calls += 1
    if calls == int(os.environ["DIE_AT_MOVE"]):
        # This batch is committed, not yet moved to the processed folder: the worst moment.
        os.kill(os.getpid(), signal.SIGKILL)
    return move(self, uids)
Mailbox.move = move_or_die
from engagements.tasks import poll_inbox
poll_inbox()
"""


def _database_url():
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_poll_loses_nothing_and_logs_nothing_twice(mailbox, people, settings):
    require(connection.vendor == "postgresql", "a worker process needs a shared PostgreSQL")
    for number in range(5):
        mailbox.deliver(
            message(
                to="maria@freetown.example", bcc=mailbox.address, subject=f"Message {number}"
            ).as_bytes()
        )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "DIE_AT_MOVE": "2",
        "CRM_INBOX_BATCH_SIZE": "2",
        "CRM_INBOX_LEASE_SECONDS": "2",
        **{name: str(value) for name, value in mailbox.settings().items()},
    }
    worker = subprocess.run(
        [sys.executable, "-c", KILLED_POLL], cwd=ROOT, env=env, timeout=120, capture_output=True
    )
    assert worker.returncode == -signal.SIGKILL, worker.stderr.decode()[-2000:]
    # The first batch of two was recorded and moved, the second recorded but never moved,
    # the last message never read.
    assert Engagement.objects.count() == 4
    assert len(mailbox.uids("INBOX")) == 3

    # The dead worker's lease blocks the next poll until it runs out, then all goes on.
    settings.CRM_INBOX_LEASE_SECONDS = 2
    assert inbox_poll().skipped == "another poll is running"
    time.sleep(2.5)
    result = inbox_poll()

    assert result.already == 2 and result.logged == 1
    assert sorted(Engagement.objects.values_list("summary", flat=True)) == [
        f"Message {n}" for n in range(5)
    ]
    assert mailbox.uids("INBOX") == []
    assert len(mailbox.uids("CRM-processed")) == 5
