"""The CRM mailbox over IMAP (implicit TLS): list what waits, fetch it, move it when done.

The server's certificate is always verified, against the system's CAs or, when
``CRM_INBOX_CA_FILE`` is set, against that bundle only.
"""

import contextlib
import imaplib
import socket
import ssl

from django.conf import settings
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

# What a mailbox that cannot be reached or refuses us raises; the poll records it and stops.
MAILBOX_ERRORS = (IMAPClientError, imaplib.IMAP4.error, OSError, ssl.SSLError, socket.timeout)


def ssl_context():
    return ssl.create_default_context(cafile=settings.CRM_INBOX_CA_FILE or None)


class Mailbox:
    """``with Mailbox() as box:`` — logged in, the folder to read selected."""

    def __init__(self):
        self.client = None
        self.uidvalidity = None

    def __enter__(self):
        self.client = IMAPClient(
            settings.CRM_INBOX_HOST,
            port=settings.CRM_INBOX_PORT,
            ssl=True,
            ssl_context=ssl_context(),
            timeout=settings.CRM_INBOX_TIMEOUT,
        )
        try:
            self.client.login(settings.CRM_INBOX_USERNAME, settings.CRM_INBOX_PASSWORD)
            processed = settings.CRM_INBOX_PROCESSED_FOLDER
            if not self.client.folder_exists(processed):
                self.client.create_folder(processed)
            selected = self.client.select_folder(settings.CRM_INBOX_FOLDER)
            self.uidvalidity = int(selected[b"UIDVALIDITY"])
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, *exc):
        self._close()
        return False

    def _close(self):
        # A connection already gone needs no goodbye.
        with contextlib.suppress(*MAILBOX_ERRORS):
            self.client.logout()

    def uids(self):
        """The UIDs of every message in the folder, oldest first."""
        return sorted(self.client.search(["ALL"]))

    def fetch(self, uids):
        """{uid: the message's bytes} without marking anything read."""
        if not uids:
            return {}
        data = self.client.fetch(uids, ["BODY.PEEK[]"])
        return {uid: data[uid][b"BODY[]"] for uid in uids if uid in data}

    def move(self, uids):
        """Move messages to the processed folder (copy + expunge where MOVE is missing)."""
        if not uids:
            return
        folder = settings.CRM_INBOX_PROCESSED_FOLDER
        if self.client.has_capability("MOVE"):
            self.client.move(uids, folder)
            return
        self.client.copy(uids, folder)
        self.client.delete_messages(uids)
        if self.client.has_capability("UIDPLUS"):
            self.client.uid_expunge(uids)
        else:
            self.client.expunge()
