"""Writes that span several engagements records."""

import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .mail.imap import MAILBOX_ERRORS, Mailbox
from .mail.outlook import OutlookFileError, msg_to_eml
from .mail.parsing import ParsedEmail, message_key, parse_message
from .models import (
    EmailAttachment,
    Engagement,
    InboundEmail,
    InboxState,
    TARequest,
    TATransition,
)
from .selectors import people_by_addresses, staff_users_by_address


class TransitionRefused(Exception):
    """A TA request cannot make the asked-for move; the message says why, for the user."""


def ta_request_transition(*, ta_request, to_status, by, comment="", expected_status=None):
    """Move ``ta_request`` to ``to_status`` and record who did it, when and why.

    ``expected_status`` is the status the user saw when they clicked: if someone else moved the
    request in the meantime the click is refused instead of being applied to a state the user
    never saw. ``None`` skips that check (scripts, demo data). The row is locked while checking,
    so two simultaneous clicks cannot both pass. Refusals raise ``TransitionRefused`` and change
    nothing. Returns the recorded ``TATransition``.
    """
    Status = TARequest.Status
    with transaction.atomic():
        locked = TARequest.objects.select_for_update().get(pk=ta_request.pk)
        current = Status(locked.status)
        if expected_status is not None and expected_status != current:
            raise TransitionRefused(
                f"This request was moved to “{current.label}” by someone else since you opened "
                "it. Nothing was changed; check its latest state and try again."
            )
        if to_status not in Status.values:
            raise TransitionRefused(f"“{to_status}” is not a TA request status. Nothing changed.")
        if to_status not in locked.allowed_transitions:
            allowed = ", ".join(Status(s).label for s in locked.allowed_transitions) or "none"
            raise TransitionRefused(
                f"A request that is “{current.label}” cannot move to “{Status(to_status).label}” "
                f"(allowed: {allowed}). Nothing was changed."
            )
        transition = TATransition.objects.create(
            request=locked, from_status=current, to_status=to_status, by=by, comment=comment
        )
        locked.status = to_status
        if to_status == Status.DELIVERED:
            locked.delivered_on = timezone.localdate()
        # Outside a request (scripts, tasks) simple-history would not know who made the change.
        locked._history_user = by
        locked.save(update_fields=["status", "delivered_on", "updated_at"])
    ta_request.status = locked.status
    ta_request.delivered_on = locked.delivered_on
    return transition


def engagement_follow_up_done(*, engagement, by):
    """Mark an engagement's follow-up as done (a no-op when it already is)."""
    with transaction.atomic():
        locked = Engagement.objects.select_for_update().get(pk=engagement.pk)
        if locked.follow_up_done:
            return locked
        locked.follow_up_done = True
        locked._history_user = by
        locked.save(update_fields=["follow_up_done", "updated_at"])
    engagement.follow_up_done = True
    return locked


# --- Emails: the CRM mailbox, dropped files and the inbox review ---------------------------
#
# A message becomes an InboundEmail row first (keyed by its Message-ID, so it is read once),
# then an email engagement when the CRM knows who sent it and whom it concerns; otherwise it
# waits for a reviewer. The mailbox poll commits each message before moving it to the
# processed folder: a worker killed in between leaves a message the next poll recognises and
# only moves, and one killed earlier leaves it unread in the folder for the next poll.

logger = logging.getLogger(__name__)


class InboxRefused(Exception):
    """A review action that cannot be applied; the message says why, for the user."""


@dataclass
class PollResult:
    skipped: str = ""
    read: int = 0
    logged: int = 0
    waiting: int = 0
    already: int = 0
    error: str = ""


def _cities_of(people):
    cities = {}
    for person in people:
        if person.city_id:
            cities.setdefault(person.city_id, person.city)
    return list(cities.values())


def _attachment_refusal(attachment):
    """Why an attachment is not kept (settings: size cap, allowed types), or ""."""
    limit_mb = settings.CRM_INBOX_ATTACHMENT_MAX_MB
    extension = attachment.filename.rsplit(".", 1)[-1].lower() if "." in attachment.filename else ""
    if extension not in settings.CRM_INBOX_ATTACHMENT_TYPES:
        return f"files of type “{extension or 'none'}” are not kept"
    if len(attachment.data) > limit_mb * 1024 * 1024:
        return f"larger than {limit_mb:g} MB"
    return ""


def _store_attachments(email, attachments):
    skipped = []
    for attachment in attachments:
        refusal = _attachment_refusal(attachment)
        if refusal:
            skipped.append(
                {"name": attachment.filename, "size": len(attachment.data), "reason": refusal}
            )
            continue
        row = EmailAttachment(
            email=email,
            filename=attachment.filename,
            content_type=attachment.content_type[:100],
            size=len(attachment.data),
        )
        row.file.save(attachment.filename, ContentFile(attachment.data), save=False)
        row.save()
    return skipped


def _log_engagement(email, *, owner, people, cities, by):
    moment = email.sent_at or email.received_at
    engagement = Engagement(
        date=timezone.localdate(moment),
        kind=Engagement.Kind.EMAIL,
        owner=owner,
        summary=email.subject or "(no subject)",
        notes=email.body,
    )
    # One history entry, "created", with its cities and people: saving first and then setting
    # each many-to-many would record a creation and two changes (three rows, each with copies
    # of the relations), which is most of the cost of a mailbox poll.
    engagement.save_without_historical_record()
    Engagement.cities.through.objects.bulk_create(
        [Engagement.cities.through(engagement=engagement, city=city) for city in cities]
    )
    Engagement.contacts.through.objects.bulk_create(
        [Engagement.contacts.through(engagement=engagement, contact=p) for p in people]
    )
    engagement._history_user = by
    engagement.save(update_fields=["updated_at"])
    engagement.history.filter(history_type="~").update(history_type="+")
    email.engagement = engagement
    email.status = InboundEmail.Status.LOGGED
    email.reason = InboundEmail.Reason.NONE
    return engagement


def inbound_email_record(
    *,
    raw,
    source=InboundEmail.Source.MAILBOX,
    uid=None,
    uidvalidity=None,
    uploaded_by=None,
    parsed=None,
    person=None,
    city=None,
):
    """Record one email and log it as an engagement when it may be: returns (email, created).

    A message already recorded (same Message-ID) is returned as it is, with ``created`` False.
    From the mailbox, an email is logged only when a staff user sent or forwarded it and it
    names a known person with a city; otherwise it waits for review. A dropped file
    (``uploaded_by``, with the ``person`` or ``city`` of the page it was dropped on) is logged
    by and for the person who dropped it.
    """
    key = message_key(raw)
    existing = InboundEmail.objects.filter(message_key=key).first()
    if existing is not None:
        return existing, False
    reason = InboundEmail.Reason.NONE
    if parsed is None:
        try:
            parsed = parse_message(raw)
        except Exception:  # a message no parser can read still must not be lost
            logger.exception("Could not read email %s", key)
            parsed, reason = ParsedEmail(), InboundEmail.Reason.UNREADABLE

    envelope = parsed.envelope_sender
    staff = staff_users_by_address([*parsed.addresses(), *([envelope.email] if envelope else [])])
    sender_user = staff.get(envelope.email) if envelope else None
    owner = uploaded_by or sender_user
    addresses = [
        address
        for address in parsed.addresses()
        if address not in staff and address != settings.CRM_INBOX_ADDRESS
    ]
    people = people_by_addresses(addresses)
    if person is not None and person not in people:
        people.append(person)
    cities = _cities_of(people)
    if city is not None and city not in cities:
        cities.append(city)
    if not reason:
        if owner is None:
            reason = InboundEmail.Reason.UNKNOWN_SENDER
        elif not people and not cities:
            reason = InboundEmail.Reason.NO_PERSON
        elif not cities:
            reason = InboundEmail.Reason.NO_CITY

    sender = parsed.sender
    try:
        with transaction.atomic():
            email = InboundEmail(
                message_key=key,
                source=source,
                imap_uid=uid,
                imap_uidvalidity=uidvalidity,
                sent_at=parsed.sent_at,
                subject=parsed.subject[:255],
                from_name=(sender.name if sender else "")[:200],
                from_address=(sender.email if sender else "")[:254],
                to_addresses=[a.pair() for a in parsed.to],
                cc_addresses=[a.pair() for a in parsed.cc],
                body=parsed.body,
                forwarded_by=parsed.forwarded_by.email if parsed.forwarded_by else "",
                sender_user=sender_user,
                uploaded_by=uploaded_by,
                reason=reason,
            )
            email.raw.save("message.eml", ContentFile(raw), save=False)
            if not reason:
                _log_engagement(email, owner=owner, people=people, cities=cities, by=owner)
            email.save()
            email.skipped_attachments = _store_attachments(email, parsed.attachments)
            if email.skipped_attachments:
                email.save(update_fields=["skipped_attachments"])
    except IntegrityError:
        # Another poll recorded the same message a moment ago.
        existing = InboundEmail.objects.filter(message_key=key).first()
        if existing is None:
            raise
        return existing, False
    return email, True


def _lease_take():
    """Take the poll's lease (one poll at a time across workers); None when another holds it."""
    now = timezone.now()
    # The row may be created by a poll starting at the same moment.
    with contextlib.suppress(IntegrityError):
        InboxState.objects.get_or_create(name="default")
    token = uuid.uuid4()
    taken = (
        InboxState.objects.filter(name="default")
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            lease_token=token,
            lease_until=now + timedelta(seconds=settings.CRM_INBOX_LEASE_SECONDS),
        )
    )
    return token if taken else None


def _lease_renew(token):
    until = timezone.now() + timedelta(seconds=settings.CRM_INBOX_LEASE_SECONDS)
    return InboxState.objects.filter(name="default", lease_token=token).update(lease_until=until)


def _lease_release(token, **fields):
    InboxState.objects.filter(name="default", lease_token=token).update(
        lease_token=None, lease_until=None, **fields
    )


def inbox_poll():
    """Read every message waiting in the CRM mailbox once, then move it to the processed
    folder. Returns a ``PollResult``; a mailbox that cannot be reached is recorded, not raised,
    and the next poll tries again."""
    if not settings.CRM_INBOX_HOST:
        return PollResult(skipped="no mailbox is configured (CRM_INBOX_HOST)")
    token = _lease_take()
    if token is None:
        return PollResult(skipped="another poll is running")
    result = PollResult()
    try:
        with Mailbox() as box:
            _poll_folder(box, token, result)
    except MAILBOX_ERRORS as error:
        result.error = f"{type(error).__name__}: {error}"[:1000]
        logger.warning("CRM mailbox poll failed: %s", result.error)
    finally:
        _lease_release(
            token,
            last_poll_at=timezone.now(),
            last_poll_count=result.read,
            last_error=result.error,
        )
    return result


def _poll_folder(box, token, result):
    uids = box.uids()
    size = max(1, settings.CRM_INBOX_BATCH_SIZE)
    for start in range(0, len(uids), size):
        if not _lease_renew(token):
            logger.warning("CRM mailbox poll lost its lease; the next poll goes on")
            return
        # One transaction per batch (a savepoint per message): committed before the batch is
        # moved, so a worker dying in between leaves messages the next poll only moves.
        with transaction.atomic():
            done = _record_batch(box, uids[start : start + size], result)
        box.move(done)


def _record_batch(box, chunk, result):
    """Record the messages of ``chunk`` (UIDs); returns the UIDs that may be moved."""
    # Recorded by a poll that died before moving them: only the move is left to do.
    done = list(
        InboundEmail.objects.filter(
            imap_uidvalidity=box.uidvalidity, imap_uid__in=chunk
        ).values_list("imap_uid", flat=True)
    )
    result.already += len(done)
    fresh = [uid for uid in chunk if uid not in set(done)]
    for uid, raw in box.fetch(fresh).items():
        try:
            with transaction.atomic():
                email, created = inbound_email_record(raw=raw, uid=uid, uidvalidity=box.uidvalidity)
        except Exception:  # left in the folder: the next poll tries it again
            logger.exception("Could not record message %s from the CRM mailbox", uid)
            continue
        done.append(uid)
        result.read += 1
        if not created:
            result.already += 1
        elif email.status == InboundEmail.Status.LOGGED:
            result.logged += 1
        else:
            result.waiting += 1
    return done


def _delete_files_on_commit(names):
    storage = default_storage

    def delete():
        for name in names:
            if name:
                storage.delete(name)

    transaction.on_commit(delete)


def inbound_email_purge(*, email):
    """Delete an email's stored message and attachment files (personal data); the row stays
    as the Message-ID key, so the message is never read in again."""
    with transaction.atomic():
        names = [email.raw.name, *email.attachments.values_list("file", flat=True)]
        email.attachments.all().delete()
        email.raw = ""
        email.body = ""
        email.skipped_attachments = []
        email.save(update_fields=["raw", "body", "skipped_attachments"])
        _delete_files_on_commit(names)


def _locked_waiting(email):
    locked = InboundEmail.objects.select_for_update().get(pk=email.pk)
    if locked.status != InboundEmail.Status.REVIEW:
        who = locked.reviewed_by or "the mailbox"
        raise InboxRefused(
            f"This email was already {locked.get_status_display().lower()} by {who}. "
            "Nothing was changed."
        )
    return locked


def inbound_email_accept(*, email, by, owner, people, cities):
    """A reviewer logs a waiting email as an engagement with the people and cities they chose."""
    if not cities:
        raise InboxRefused("Choose at least one city for the engagement. Nothing was logged.")
    with transaction.atomic():
        locked = _locked_waiting(email)
        engagement = _log_engagement(
            locked, owner=owner, people=list(people), cities=list(cities), by=by
        )
        locked.reviewed_by, locked.reviewed_at = by, timezone.now()
        locked.save()
    return engagement


def inbound_email_discard(*, email, by):
    """A reviewer discards a waiting email: nothing is logged and its files are deleted."""
    with transaction.atomic():
        locked = _locked_waiting(email)
        locked.status = InboundEmail.Status.DISCARDED
        locked.reason = InboundEmail.Reason.NONE
        locked.reviewed_by, locked.reviewed_at = by, timezone.now()
        locked.save(update_fields=["status", "reason", "reviewed_by", "reviewed_at"])
        inbound_email_purge(email=locked)
    return locked


def inbound_email_upload(*, upload, by, city=None, person=None):
    """Log an .eml or Outlook .msg file dropped onto a city's or a person's page: by the person
    who dropped it, with that city or person. Returns (email, created)."""
    data = upload.read()
    if upload.name.lower().endswith(".msg"):
        try:
            data = msg_to_eml(data)
        except OutlookFileError as error:
            raise InboxRefused(f"Nothing was logged: {error}") from error
    return inbound_email_record(
        raw=data,
        source=InboundEmail.Source.UPLOAD,
        uploaded_by=by,
        city=city,
        person=person,
    )
