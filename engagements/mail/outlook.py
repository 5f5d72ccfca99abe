"""Outlook .msg files, read with the maintained ``extract-msg`` library and turned into an
RFC 5322 message, so a dropped .msg is logged exactly like an email from the mailbox."""

import hashlib
from email.message import EmailMessage
from email.utils import format_datetime

import extract_msg


class OutlookFileError(Exception):
    """The file is not an Outlook message that can be read; the message says so, for users."""


def _addresses(value):
    # Outlook separates recipients with semicolons; RFC 5322 with commas.
    return ", ".join(part.strip() for part in (value or "").split(";") if part.strip())


def msg_to_eml(data):
    """The bytes of an email equivalent to the Outlook message ``data``."""
    try:
        msg = extract_msg.openMsg(data, strict=True)
    except Exception as error:  # the library raises many kinds for a file it cannot read
        raise OutlookFileError("this .msg file could not be read as an Outlook email.") from error
    try:
        email = EmailMessage()
        for header, value in (
            ("From", msg.sender),
            ("To", _addresses(msg.to)),
            ("Cc", _addresses(msg.cc)),
            ("Subject", msg.subject),
        ):
            if value:
                email[header] = " ".join(str(value).split())
        if msg.date:
            email["Date"] = format_datetime(msg.date)
        # The original Message-ID, so a message already BCC'd is recognised; else a digest.
        message_id = (msg.messageId or "").strip()
        if not (message_id.startswith("<") and message_id.endswith(">")):
            message_id = f"<{hashlib.sha256(data).hexdigest()}@outlook-file>"
        email["Message-ID"] = message_id
        body = msg.body
        if body:
            email.set_content(body.replace("\r\n", "\n"))
        elif msg.htmlBody:
            email.set_content(msg.htmlBody.decode("utf-8", errors="replace"), subtype="html")
        else:
            email.set_content("")
        for attachment in msg.attachments:
            payload = attachment.data
            if not isinstance(payload, bytes):
                continue  # an embedded Outlook item; its text is in the body already
            name = attachment.longFilename or attachment.shortFilename or "attachment"
            maintype, _, subtype = (attachment.mimetype or "application/octet-stream").partition(
                "/"
            )
            email.add_attachment(
                payload,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=name,
            )
        return email.as_bytes()
    finally:
        msg.close()
