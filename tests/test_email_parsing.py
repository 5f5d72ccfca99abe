"""Reading emails for the log: quoted replies trimmed, forwards read as the original, files."""

from engagements.mail.parsing import html_to_text, message_key, parse_message, trim_quoted

from .mail_samples import attached_forward, gmail_forward, message


def test_quoted_replies_and_signatures_are_trimmed_in_several_mail_programs():
    gmail = "Yes, Thursday.\n\nOn Mon, 3 Jun 2024 at 10:00, Ana <ana@mmc.example> wrote:\n> When?\n"
    wrapped = "Yes.\n\nOn Mon, 3 Jun 2024 at 10:00, Ana Staff <\nana@mmc.example> wrote:\n> x\n"
    outlook = (
        "Confirmed.\n\n________________________________\nFrom: Ana Staff <ana@mmc.example>\n"
        "Sent: Monday, June 3, 2024 10:00 AM\nTo: Maria\nSubject: Dates\n\nWhen?\n"
    )
    spanish = "De acuerdo.\n\nEl lun, 3 jun 2024 a las 10:00, Ana (<ana@mmc.example>) escribió:\n> ¿Cuándo?"
    french = "D'accord.\n\nLe lun. 3 juin 2024 à 10:00, Ana <ana@mmc.example> a écrit :\n> Quand ?"
    signature = "See you there.\n-- \nMaria Focal\nCity of Freetown"
    interleaved = "> Can you come?\nYes.\n> And your deputy?\nShe will too."

    assert trim_quoted(gmail) == "Yes, Thursday."
    assert trim_quoted(wrapped) == "Yes."
    assert trim_quoted(outlook) == "Confirmed."
    assert trim_quoted(spanish) == "De acuerdo."
    assert trim_quoted(french) == "D'accord."
    assert trim_quoted(signature) == "See you there."
    assert trim_quoted(interleaved) == "Yes.\nShe will too."


def test_an_html_only_email_is_read_as_text_without_its_quoted_part():
    msg = message(body="")
    msg.clear_content()
    msg.set_content(
        "<html><head><style>p{}</style></head><body><p>Hello <b>Maria</b>,</p>"
        "<p>Agenda&nbsp;attached.</p><div class='gmail_quote'>On Mon wrote:"
        "<blockquote>old text</blockquote></div></body></html>",
        subtype="html",
    )

    parsed = parse_message(msg.as_bytes())

    assert parsed.body == "Hello Maria,\n\nAgenda attached."
    assert "old text" not in html_to_text("<blockquote>old text</blockquote>")


def test_addresses_are_read_lower_case_with_names_from_every_header():
    parsed = parse_message(
        message(
            sender='"Staff, Ana" <Ana@MMC.example>',
            to="Maria <MARIA@freetown.example>, bob@lisbon.example",
            cc="=?utf-8?q?Jos=C3=A9?= <jose@bogota.example>",
        ).as_bytes()
    )

    assert parsed.sender.email == "ana@mmc.example" and parsed.sender.name == "Staff, Ana"
    assert parsed.addresses() == [
        "ana@mmc.example",
        "maria@freetown.example",
        "bob@lisbon.example",
        "jose@bogota.example",
    ]
    assert parsed.cc[0].name == "José"


def test_an_inline_forward_is_read_as_the_original_in_the_forwards_time_zone():
    original = message(
        sender="Maria Focal <maria@freetown.example>",
        to="Ana <ana@mmc.example>",
        subject="Pledge update",
        body="Here is our update.\n\nOn Sun, 2 Jun 2024, Ana wrote:\n> Any news?",
    )
    forward = gmail_forward(original, note="")
    forward.replace_header("Date", "Mon, 03 Jun 2024 23:30:00 -0500")

    parsed = parse_message(forward.as_bytes())

    assert parsed.subject == "Pledge update"
    assert parsed.sender.email == "maria@freetown.example"
    assert parsed.forwarded_by.email == "ana@mmc.example"
    assert parsed.body == "Here is our update."
    # "Mon, 3 Jun 2024 at 10:00" carries no zone: the forwarder's (the forward's) is used.
    assert parsed.sent_at.isoformat() == "2024-06-03T10:00:00-05:00"


def test_a_forward_as_attachment_keeps_the_originals_files_and_the_forwarders():
    original = message(
        sender="maria@freetown.example",
        attachments=[("plan.pdf", b"%PDF-plan", "application/pdf")],
    )
    forward = attached_forward(original)
    forward.add_attachment(b"notes", maintype="text", subtype="plain", filename="my-notes.txt")

    parsed = parse_message(forward.as_bytes())

    assert parsed.sender.email == "maria@freetown.example"
    assert sorted(a.filename for a in parsed.attachments) == ["my-notes.txt", "plan.pdf"]


def test_a_message_without_message_id_is_keyed_by_its_content():
    raw = b"From: ana@mmc.example\r\nSubject: hi\r\n\r\nbody\r\n"

    assert message_key(raw).startswith("sha256:")
    assert message_key(raw) == message_key(raw)
    assert message_key(raw) != message_key(raw.replace(b"body", b"other"))
    assert message_key(b"Message-ID: <a@b>\r\n\r\nx") == "<a@b>"


def test_an_attachment_name_cannot_reach_the_file_system():
    msg = message(attachments=[("../../etc/passwd.txt", b"x", "text/plain")])

    (attachment,) = parse_message(msg.as_bytes()).attachments

    assert attachment.filename == "passwd.txt"


def test_garbage_is_read_without_raising():
    parsed = parse_message(b"\x00\xff not an email at all")

    assert parsed.sender is None and parsed.addresses() == []
