"""A real IMAP server for the mailbox tests: Debian's Dovecot with a throwaway configuration.

Everything lives in a temporary folder of its own: the configuration, a self-signed TLS
certificate (made here, and trusted by the tests through ``CRM_INBOX_CA_FILE``, never by turning
verification off), a passwd-file with one user and password, and that user's Maildir. The
server listens on a free port on 127.0.0.1 with implicit TLS (IMAPS) and is stopped at the end.
"""

import grp
import os
import pwd
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from imapclient import IMAPClient

# Enough mail users for every mailbox test in one test process.
SPARE_ACCOUNTS = 500
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


class ServerUnavailable(Exception):
    """Dovecot is not installed or would not start; the message says why."""


@dataclass
class ImapServer:
    host: str
    port: int
    username: str
    password: str
    ca_file: str
    address: str
    spare_accounts: list = field(default_factory=list)

    def account(self):
        """A mail user with an empty Maildir of its own on the same server, so each test
        starts from nothing. (Users are written at start-up: Dovecot re-reads its passwd-file
        at most once a second.)"""
        username, password = self.spare_accounts.pop()
        return ImapServer(
            self.host,
            self.port,
            username,
            password,
            self.ca_file,
            f"{username}@mmc.example",
        )

    def settings(self):
        """The CRM_INBOX_* settings that point the CRM at this server."""
        return {
            "CRM_INBOX_HOST": self.host,
            "CRM_INBOX_PORT": self.port,
            "CRM_INBOX_USERNAME": self.username,
            "CRM_INBOX_PASSWORD": self.password,
            "CRM_INBOX_CA_FILE": self.ca_file,
            "CRM_INBOX_ADDRESS": self.address,
        }

    @contextmanager
    def client(self):
        context = ssl.create_default_context(cafile=self.ca_file)
        with IMAPClient(self.host, port=self.port, ssl=True, ssl_context=context) as client:
            client.login(self.username, self.password)
            yield client

    def deliver(self, raw, folder="INBOX"):
        """Put a message into the mailbox for real (IMAP APPEND), as a mail server would."""
        if isinstance(raw, str):
            raw = raw.encode()
        with self.client() as client:
            client.append(folder, raw)

    def uids(self, folder):
        with self.client() as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            return client.search(["ALL"])


def _passwd_line(username, password, uid, gid, root):
    return f"{username}:{{PLAIN}}{password}:{uid}:{gid}::{root}/mail/{username}::\n"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _make_certificate(folder):
    cert, key = folder / "cert.pem", folder / "key.pem"
    result = subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
    )
    if result.returncode != 0:
        raise ServerUnavailable(f"openssl could not make a certificate: {result.stderr[-300:]!r}")
    return cert, key


def _accounts():
    """(mail uid, gid, internal user, login user): Dovecot refuses mail access as root, so as
    root the mail belongs to Dovecot's own system user; otherwise everything runs as us."""
    if os.geteuid() == 0:
        try:
            internal = pwd.getpwnam("dovecot")
            login = pwd.getpwnam("dovenull")
        except KeyError as error:
            raise ServerUnavailable("the dovecot system users are missing") from error
        return internal.pw_uid, internal.pw_gid, internal.pw_name, login.pw_name
    me = pwd.getpwuid(os.geteuid())
    return me.pw_uid, me.pw_gid, me.pw_name, me.pw_name


CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@contextmanager
def dovecot(timeout=15):
    """Start a throwaway Dovecot; yields an ``ImapServer``. Raises ``ServerUnavailable``."""
    if not os.path.exists(DOVECOT):
        raise ServerUnavailable("Dovecot is not installed (Debian package dovecot-imapd)")
    uid, gid, internal, login = _accounts()
    root = Path(tempfile.mkdtemp(prefix="crm-imap-"))
    process = None
    try:
        # The mail user (Dovecot's own, when we are root) must reach its Maildir.
        root.chmod(0o755)
        for name in ("run", "state", "mail"):
            (root / name).mkdir()
        os.chown(root / "mail", uid, gid)
        _make_certificate(root)
        port = _free_port()
        username, password = "crm", secrets.token_urlsafe(16)
        spare = [(f"crm{n}", secrets.token_urlsafe(16)) for n in range(SPARE_ACCOUNTS)]
        (root / "passwd").write_text(
            "".join(
                _passwd_line(name, secret, uid, gid, root)
                for name, secret in [(username, password), *spare]
            )
        )
        (root / "passwd").chmod(0o644)
        internal_group = grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name
        config = root / "dovecot.conf"
        config.write_text(
            CONFIG.format(
                root=root,
                port=port,
                uid=uid,
                gid=gid,
                internal=internal,
                internal_group=internal_group,
                login=login,
            )
        )
        process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                raise ServerUnavailable(
                    f"Dovecot exited with {process.returncode}: "
                    f"{process.stderr.read().decode()[-500:]} {log[-500:]}"
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise ServerUnavailable("Dovecot did not listen in time") from None
                time.sleep(0.05)
        yield ImapServer(
            host="127.0.0.1",
            port=port,
            username=username,
            password=password,
            ca_file=str(root / "cert.pem"),
            address="crm@mmc.example",
            spare_accounts=spare,
        )
    finally:
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        shutil.rmtree(root, ignore_errors=True)
