"""An email, as the engagement log needs it: who, when, what was said, and the files.

``parse_message(raw)`` reads RFC 5322 bytes (what IMAP returns, what an .eml file holds). A
forwarded message is read as the original: from an attached message (message/rfc822), or from
the header block that mail programs write under "Forwarded message" / "Original Message".
Quoted replies and signatures are trimmed from the text, so a thread logged message by message
keeps each message's own words once.
"""

import email
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from dateutil import parser as dateparser


@dataclass
class Address:
    name: str
    email: str

    def pair(self):
        return [self.name, self.email]


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedEmail:
    message_id: str = ""
    subject: str = ""
    sent_at: datetime | None = None
    sender: Address | None = None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    body: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    # Who sent the message to the CRM when it is a forward (the original sender is ``sender``).
    forwarded_by: Address | None = None

    @property
    def envelope_sender(self):
        """The person who put the message in front of the CRM: the forwarder, else the sender."""
        return self.forwarded_by or self.sender

    def addresses(self):
        """Every address on the original message, lower-case, once each, sender first."""
        seen = []
        for address in [self.sender, *self.to, *self.cc]:
            if address and address.email and address.email not in seen:
                seen.append(address.email)
        return seen


MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def message_key(raw):
    """What identifies a message for good: its Message-ID, or a digest of its bytes."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    message = email.message_from_bytes(head + b"\r\n\r\n", policy=policy.compat32)
    value = str(message.get("Message-ID", "") or "")
    found = MESSAGE_ID.search(value)
    if found and len(found.group()) <= 250:
        return found.group()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


# --- Headers -----------------------------------------------------------------------------


def _addresses(value):
    if not value:
        return []
    result = []
    for name, addr in getaddresses([str(value)]):
        addr = addr.strip().lower()
        if "@" in addr:
            result.append(Address(name=name.strip(), email=addr))
    return result


def _header(message, name):
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):
        # A header the parser cannot model; read it undecoded rather than losing the message.
        value = message.get_all(name, failobj=[""])[0] if hasattr(message, "get_all") else ""
    return str(value or "").strip()


def _date(value):
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        moment = _loose_date(value)
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _loose_date(value, zone=UTC):
    """A date as mail programs print it in a forwarded header ("3 June 2024 at 10:00"); one
    without a zone is taken in ``zone`` (the forward's own, the forwarder's clock)."""
    try:
        moment = dateparser.parse(value, fuzzy=True)
    except (ValueError, OverflowError, TypeError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


SUBJECT_PREFIX = re.compile(
    r"^\s*((re|aw|sv|antw|fwd?|tr|wg|rv|enc|doorst)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
FORWARD_PREFIX = re.compile(r"^\s*(fwd?|tr|wg|rv|enc|doorst)\s*:", re.IGNORECASE)


def clean_subject(subject):
    return " ".join(subject.split())[:255]


def strip_forward_prefix(subject):
    while FORWARD_PREFIX.match(subject):
        subject = FORWARD_PREFIX.sub("", subject, count=1).strip()
    return subject


# --- Text --------------------------------------------------------------------------------


class _HTMLText(HTMLParser):
    """Readable text from an HTML email; quoted replies (blockquote) are left out."""

    BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr"}
    SKIP = {"script", "style", "head", "blockquote", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if tag in self.SKIP or "gmail_quote" in classes:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in ("br", "hr"):
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(" ".join(data.split(" ")))

    def text(self):
        lines = [" ".join(line.split()) for line in "".join(self.parts).splitlines()]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html):
    converter = _HTMLText()
    converter.feed(html)
    converter.close()
    return converter.text()


def _part_text(part):
    try:
        text = part.get_content()
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        text = payload.decode("utf-8", errors="replace")
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _body(message):
    """The message's own text: its plain-text part, else its HTML converted."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except (KeyError, AttributeError):
        part = None
    if part is None:
        if message.get_content_maintype() == "text":
            part = message
        else:
            return ""
    text = _part_text(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return text


REPLY_HEADERS = [
    # "On Mon, 3 Jun 2024 at 10:00, Ana <ana@x.org> wrote:" (may wrap onto a second line)
    re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*El\b.{0,300}\bescribió:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Le\b.{0,300}\ba écrit\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Am\b.{0,300}\bschrieb\b.{0,200}:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Em\b.{0,300}\bescreveu:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
]
OUTLOOK_SEPARATOR = re.compile(r"^\s*_{10,}\s*$")
HEADER_LINE = re.compile(r"^\s*\*?([A-Za-zÀ-ÿ]+)\*?\s*:\s*(.*)$")
FROM_KEYS = {"from", "de", "von", "da", "van"}
SENT_KEYS = {"sent", "date", "fecha", "enviado", "envoyé", "datum", "gesendet", "data", "em"}
SIGNATURE = re.compile(r"^-- ?$")


def trim_quoted(text):
    """The new text of a reply: what comes before the quoted message, without a signature."""
    lines = text.split("\n")
    cut = len(lines)
    for index, line in enumerate(lines):
        two = line + " " + lines[index + 1] if index + 1 < len(lines) else line
        if any(p.match(line) or p.match(two) for p in REPLY_HEADERS):
            cut = index
            break
        if SIGNATURE.match(line):
            cut = index
            break
        if _starts_outlook_header(lines, index):
            cut = index
            break
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def _starts_outlook_header(lines, index):
    """Outlook quotes with a rule and/or a "From: … Sent: …" block instead of "wrote:"."""
    start = index + 1 if OUTLOOK_SEPARATOR.match(lines[index]) else index
    first = HEADER_LINE.match(lines[start]) if start < len(lines) else None
    if not first or first.group(1).lower() not in FROM_KEYS:
        return False
    following = lines[start + 1 : start + 5]
    return any(
        (m := HEADER_LINE.match(line)) and m.group(1).lower() in SENT_KEYS for line in following
    )


# --- Forwards ----------------------------------------------------------------------------

FORWARD_MARKERS = re.compile(
    r"^\s*(-{2,}\s*(Forwarded message|Original Message|Forwarded Message|Mensaje reenviado|"
    r"Mensaje original|Message transféré|Message d'origine|Weitergeleitete Nachricht|"
    r"Ursprüngliche Nachricht|Mensagem encaminhada)\s*-{2,}|Begin forwarded message:|"
    r"Inicio del mensaje reenviado:|Début du message réexpédié :)\s*$",
    re.IGNORECASE,
)
HEADER_KEYS = {
    "from": "from",
    "de": "from",
    "von": "from",
    "date": "date",
    "sent": "date",
    "fecha": "date",
    "enviado": "date",
    "envoyé": "date",
    "datum": "date",
    "gesendet": "date",
    "subject": "subject",
    "asunto": "subject",
    "objet": "subject",
    "betreff": "subject",
    "assunto": "subject",
    "to": "to",
    "para": "to",
    "à": "to",
    "an": "to",
    "cc": "cc",
}


@dataclass
class _InlineForward:
    comment: str
    headers: dict
    body: str


def _inline_forward(text, subject):
    """The original inside a forward written into the text, or None when it is not one."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        marker = bool(FORWARD_MARKERS.match(line))
        outlook = bool(FORWARD_PREFIX.match(subject)) and _starts_outlook_header(lines, index)
        if not (marker or outlook):
            continue
        start = index + 1 if marker or OUTLOOK_SEPARATOR.match(line) else index
        headers, position = {}, start
        while position < len(lines) and not lines[position].strip() and not headers:
            position += 1
        while position < len(lines) and lines[position].strip():
            found = HEADER_LINE.match(lines[position])
            key = HEADER_KEYS.get(found.group(1).lower()) if found else None
            if key:
                headers[key] = found.group(2).strip()
            elif headers and lines[position].startswith((" ", "\t")):
                pass  # a wrapped header value; the first line is enough to read it
            else:
                break
            position += 1
        if "from" not in headers:
            continue
        return _InlineForward(
            comment="\n".join(lines[:index]).strip(),
            headers=headers,
            body="\n".join(lines[position:]).strip(),
        )
    return None


def _attached_original(message):
    """The message/rfc822 part of a forward sent "as attachment", if there is one."""
    for part in _parts(message):
        if part.get_content_type() == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                return part, payload[0]
    return None, None


def _parts(part):
    """Every leaf part, an attached message counting as one (its insides are its own)."""
    if part.get_content_type() != "message/rfc822" and part.is_multipart():
        for sub in part.get_payload():
            yield from _parts(sub)
    else:
        yield part


def _attachments(message, skip=None):
    found = []
    for part in _parts(message):
        if part is skip:
            continue
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                subject = clean_subject(_header(inner[0], "Subject")) or "message"
                name = part.get_filename() or f"{subject}.eml"
                found.append(Attachment(_safe_name(name), "message/rfc822", inner[0].as_bytes()))
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if disposition == "attachment" or (filename and disposition != "inline"):
            found.append(
                Attachment(
                    filename=_safe_name(filename or "attachment"),
                    content_type=part.get_content_type(),
                    data=part.get_payload(decode=True) or b"",
                )
            )
    return found


def _safe_name(name):
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().strip(".") or "attachment"
    return re.sub(r"[\x00-\x1f]", "", name)[:200]


def _read(message):
    """The fields of one message, without looking for a forward inside it."""
    sender = _addresses(_header(message, "From"))
    return ParsedEmail(
        message_id=_header(message, "Message-ID"),
        subject=clean_subject(_header(message, "Subject")),
        sent_at=_date(_header(message, "Date")),
        sender=sender[0] if sender else None,
        to=_addresses(_header(message, "To")),
        cc=_addresses(_header(message, "Cc")),
        body=_body(message),
    )


def parse_message(raw):
    """Read an email (bytes) into a ``ParsedEmail``; a forward is read as its original."""
    message = email.message_from_bytes(raw, policy=policy.default)
    outer = _read(message)

    rfc822_part, inner = _attached_original(message)
    if inner is not None and (FORWARD_PREFIX.match(outer.subject) or not outer.body.strip()):
        original = _read(inner)
        original.body = _join(trim_quoted(outer.body), trim_quoted(original.body))
        original.forwarded_by = outer.sender
        original.sent_at = original.sent_at or outer.sent_at
        original.subject = original.subject or strip_forward_prefix(outer.subject)
        original.attachments = _attachments(inner) + _attachments(message, skip=rfc822_part)
        return original

    forward = _inline_forward(outer.body, outer.subject)
    if forward is not None:
        headers = forward.headers
        sender = _addresses(headers.get("from", ""))
        return ParsedEmail(
            message_id=outer.message_id,
            subject=clean_subject(headers.get("subject") or strip_forward_prefix(outer.subject)),
            sent_at=(
                _loose_date(headers["date"], outer.sent_at.tzinfo if outer.sent_at else UTC)
                if headers.get("date")
                else None
            )
            or outer.sent_at,
            sender=sender[0] if sender else None,
            to=_addresses(headers.get("to", "")),
            cc=_addresses(headers.get("cc", "")),
            body=_join(trim_quoted(forward.comment), trim_quoted(forward.body)),
            attachments=_attachments(message),
            forwarded_by=outer.sender,
        )

    outer.body = trim_quoted(outer.body)
    outer.attachments = _attachments(message)
    return outer


def _join(comment, body):
    """The forwarder's own words, if any, above the original's text."""
    if comment and body:
        return f"{comment}\n\n— Forwarded message —\n{body}"
    return comment or body
