"""CRM mailbox poll speed (`make bench`, or `python bench/run.py mailbox`).

Starts a real IMAP server (Debian's Dovecot, the tests' throwaway set-up in
tests/imap_server.py), delivers 500 messages to it — BCC'd emails from staff to known people,
inline forwards, forwards with a PDF attached, and unknown senders — and times one poll that
reads, records, logs and moves all 500 (goal: under 30 s), then a second poll that finds the
folder empty. Each database (a SQLite file in a temporary folder, and the PostgreSQL database
``crm_bench_mailbox``, dropped and re-created, when a server answers) is measured in a fresh
process, so tests and dev data are untouched.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = "crm_bench_mailbox"
MESSAGES = int(os.environ.get("BENCH_MAILBOX_MESSAGES", "500"))
PEOPLE = 200
GOAL_SECONDS = 30


def build_messages():
    from tests.mail_samples import attached_forward, gmail_forward, message

    messages = []
    for number in range(MESSAGES):
        person = f"person{number % PEOPLE}@city{number % PEOPLE}.example"
        kind = number % 10
        if kind < 6:  # BCC'd by a staff member
            msg = message(
                to=person,
                cc=f"person{(number + 1) % PEOPLE}@city{(number + 1) % PEOPLE}.example",
                bcc="crm@mmc.example",
                subject=f"Follow-up {number}",
                body=f"Dear colleague,\n\nThanks for message {number}.\n\nAna\n\n"
                "On Mon, 3 Jun 2024, someone wrote:\n> earlier text\n",
            )
        elif kind < 8:  # forwarded inline
            msg = gmail_forward(message(sender=person, to="ana@mmc.example", subject=f"Q {number}"))
        elif kind == 8:  # forwarded with its attachment
            original = message(
                sender=person,
                to="ana@mmc.example",
                subject=f"Signed {number}",
                attachments=[("statement.pdf", b"%PDF-1.4 " + b"x" * 50_000, "application/pdf")],
            )
            msg = attached_forward(original)
        else:  # an unknown sender: waits for review
            msg = message(
                sender=f"stranger{number}@elsewhere.example",
                to=person,
                cc="crm@mmc.example",
                subject=f"Offer {number}",
            )
        messages.append(msg.as_bytes())
    return messages


def run_worker(database_url, workdir, server):
    account = server.account()
    deliver_started = time.perf_counter()
    with account.client() as client:
        for raw in build_messages():
            client.append("INBOX", raw)
    delivered_s = time.perf_counter() - deliver_started
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_VAR_DIR=str(workdir))
    env.update({name: str(value) for name, value in account.settings().items()})
    env.pop("CI", None)
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, __file__, "worker", str(workdir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit("mailbox benchmark worker failed")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["delivered_s"] = delivered_s
    figures["left_in_inbox"] = len(account.uids("INBOX"))
    return figures


def postgres_url():
    try:
        import psycopg

        with psycopg.connect(
            PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
        ) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DB}")
    except Exception as error:  # no server: say so and carry on with SQLite
        print(f"PostgreSQL: skipped ({error.__class__.__name__}: {error})".splitlines()[0])
        return None
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_DB}"


def report(label, figures):
    verdict = "ok" if figures["poll_s"] < GOAL_SECONDS else "TOO SLOW"
    print(
        f"\n{label}: {MESSAGES} messages waiting on Dovecot over TLS "
        f"(delivered in {figures['delivered_s']:.1f} s)"
    )
    print(
        f"  first poll : {figures['poll_s']:.2f} s for {figures['read']} messages "
        f"({figures['logged']} logged, {figures['waiting']} waiting for review, "
        f"{figures['attachments']} attachments stored); goal < {GOAL_SECONDS} s: {verdict}"
    )
    print(
        f"  CPU time of the poll's own process: {figures['cpu_s']:.2f} s (the database server's "
        "and Dovecot's are not in it; on a shared machine the wall time above also waits for "
        "other processes)"
    )
    print(
        f"  second poll: {figures['second_s']:.2f} s, read {figures['second_read']} "
        f"(goal: 0); left in the inbox: {figures['left_in_inbox']} (goal: 0)"
    )
    print(f"  CPU load while measuring: {figures['load']}")


def main():
    from tests.imap_server import ServerUnavailable, dovecot

    try:
        server_context = dovecot()
        server = server_context.__enter__()
    except ServerUnavailable as error:
        raise SystemExit(f"no IMAP server for the benchmark: {error}") from error
    try:
        with tempfile.TemporaryDirectory(prefix="crm-bench-mailbox-") as tmp:
            tmp = Path(tmp)
            sqlite_dir = tmp / "sqlite"
            sqlite_dir.mkdir()
            url = f"sqlite:///{sqlite_dir / 'bench.sqlite3'}"
            report("SQLite", run_worker(url, sqlite_dir, server))
            url = postgres_url()
            if url:
                pg_dir = tmp / "pg"
                pg_dir.mkdir()
                report("PostgreSQL", run_worker(url, pg_dir, server))
    finally:
        server_context.__exit__(None, None, None)


# --- the worker: one database, in a fresh process ---------------------------------------------


def worker():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from cities.models import City, Contact, Country
    from crm.models import User
    from engagements.models import EmailAttachment
    from engagements.services import inbox_poll

    call_command("migrate", verbosity=0)
    User.objects.create_user("ana", email="ana@mmc.example", first_name="Ana")
    country, _ = Country.objects.get_or_create(
        code="SL", defaults={"name": "Sierra Leone", "region": Country.Region.AFRICA}
    )
    for number in range(PEOPLE):
        city = City.objects.create(name=f"Bench city {number}", country=country)
        Contact.objects.create(
            first_name=f"Person {number}", email=f"person{number}@city{number}.example", city=city
        )

    started, cpu = time.perf_counter(), time.process_time()
    first = inbox_poll()
    poll_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    second = inbox_poll()
    second_s = time.perf_counter() - started
    if first.error or second.error:
        raise SystemExit(f"poll failed: {first.error or second.error}")
    print(
        json.dumps(
            {
                "poll_s": poll_s,
                "cpu_s": cpu_s,
                "read": first.read,
                "logged": first.logged,
                "waiting": first.waiting,
                "attachments": EmailAttachment.objects.count(),
                "second_s": second_s,
                "second_read": second.read,
                "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker()
    else:
        main()
