"""Emails as real mail programs write them, for the mailbox tests."""

import itertools
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

_counter = itertools.count(1)


def message(
    *,
    sender="Ana Staff <ana@mmc.example>",
    to="Maria Focal <maria@freetown.example>",
    cc=None,
    bcc=None,
    subject="Call on the city's migration strategy",
    body="Dear Maria,\n\nThanks for the call today.\n\nAna",
    html=None,
    date=None,
    message_id=None,
    in_reply_to=None,
    attachments=(),
):
    """An EmailMessage; ``attachments`` are (filename, bytes, mime type) triples."""
    msg = EmailMessage()
    msg["From"] = sender
    if to:
        msg["To"] = to
    if cc:
        msg["Cc"] = cc
    if bcc:
        msg["Bcc"] = bcc
    msg["Subject"] = subject
    if date is not None:
        msg["Date"] = format_datetime(date)
    else:
        msg["Date"] = "Mon, 03 Jun 2024 10:00:00 +0200"
    msg["Message-ID"] = message_id or make_msgid(f"m{next(_counter)}", domain="mail.example")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    for filename, data, mime in attachments:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def as_bytes(msg):
    return msg.as_bytes()


def gmail_forward(original, *, forwarder="Ana Staff <ana@mmc.example>", note="FYI, for the log."):
    """A forward written into the text, as Gmail does."""
    header = (
        "---------- Forwarded message ---------\n"
        f"From: {original['From']}\n"
        "Date: Mon, 3 Jun 2024 at 10:00\n"
        f"Subject: {original['Subject']}\n"
        f"To: {original['To']}\n"
    )
    if original["Cc"]:
        header += f"Cc: {original['Cc']}\n"
    body = original.get_body(("plain",)).get_content()
    return message(
        sender=forwarder,
        to="MMC CRM <crm@mmc.example>",
        subject=f"Fwd: {original['Subject']}",
        body=f"{note}\n\n{header}\n{body}",
    )


def attached_forward(original, *, forwarder="Ana Staff <ana@mmc.example>"):
    """A forward "as attachment" (message/rfc822), as Outlook and Thunderbird can send."""
    msg = message(
        sender=forwarder,
        to="MMC CRM <crm@mmc.example>",
        subject=f"FW: {original['Subject']}",
        body="",
    )
    msg.add_attachment(original)
    return msg
