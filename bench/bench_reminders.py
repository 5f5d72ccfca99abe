"""Reminder scan speed (`make bench`, or `python bench/run.py reminders`).

Loads `seed_demo --scale 50` (100,000 synthetic engagements, about 10,000 of them with an open
follow-up due by today) into the benchmark's own databases — a SQLite file in a temporary
folder, and the PostgreSQL database ``crm_bench_outreach`` (dropped and re-created) when a
server answers — then times the reminder scan twice:

- the first scan runs every rule and creates the reminders (goal: under 10 s);
- the second scan finds them all there and creates none (and says how long that took);
- choosing what to deliver (the pending reminders to queue) is timed too.

Each database is measured in a fresh process, so tests and dev data are untouched.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = "crm_bench_outreach"
SCALE = int(os.environ.get("BENCH_REMINDER_SCALE", "50"))
GOAL_SECONDS = 10


def run_worker(database_url, workdir):
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_VAR_DIR=str(workdir))
    env.pop("CI", None)
    env.pop("REDIS_URL", None)  # nothing is queued: the scan is measured, not the delivery
    result = subprocess.run(
        [sys.executable, __file__, "worker", str(workdir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit("reminder benchmark worker failed")
    return json.loads(result.stdout.strip().splitlines()[-1])


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
    print(
        f"\n{label}: seed_demo --scale {SCALE}: {figures['engagements']:,} engagements, "
        f"{figures['due_follow_ups']:,} open follow-ups due by today (seeded in "
        f"{figures['seed_s']:.0f} s)"
    )
    verdict = "ok" if figures["first_s"] < GOAL_SECONDS else "TOO SLOW"
    print(
        f"  first scan : created {figures['first_created']:,} reminders in "
        f"{figures['first_s']:.2f} s (goal < {GOAL_SECONDS} s: {verdict}); "
        f"{figures['follow_up_reminders']:,} of them follow-ups"
    )
    print(
        f"  second scan: created {figures['second_created']:,} reminders in "
        f"{figures['second_s']:.2f} s (goal: 0 created)"
    )
    print(
        f"  choosing what to deliver: {figures['due_for_delivery']:,} pending reminders in "
        f"{figures['select_s']:.2f} s"
    )


def main():
    with tempfile.TemporaryDirectory(prefix="crm-bench-reminders-") as tmp:
        tmp = Path(tmp)
        sqlite_dir = tmp / "sqlite"
        sqlite_dir.mkdir()
        report("SQLite", run_worker(f"sqlite:///{sqlite_dir / 'bench.sqlite3'}", sqlite_dir))
        url = postgres_url()
        if url:
            pg_dir = tmp / "pg"
            pg_dir.mkdir()
            report("PostgreSQL", run_worker(url, pg_dir))


# --- the worker: one database, in a fresh process ---------------------------------------------


def worker():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import io

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from engagements.models import Engagement
    from outreach.models import Reminder, Rule
    from outreach.services import reminders_create_due, reminders_due_for_delivery

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("seed_demo", scale=SCALE, stdout=io.StringIO())
    seed_s = time.perf_counter() - started
    # The demo's own records were scanned once by the outreach demo; start from an empty
    # reminder table so the first scan below covers the whole volume.
    Reminder.objects.all().delete()
    today = timezone.localdate()

    started = time.perf_counter()
    first_created = reminders_create_due(today=today)
    first_s = time.perf_counter() - started

    started = time.perf_counter()
    second_created = reminders_create_due(today=today)
    second_s = time.perf_counter() - started

    started = time.perf_counter()
    due = reminders_due_for_delivery(mark_enqueued=False)
    select_s = time.perf_counter() - started

    print(
        json.dumps(
            {
                "engagements": Engagement.objects.count(),
                "due_follow_ups": Engagement.objects.filter(
                    follow_up_done=False, follow_up_date__lte=today
                ).count(),
                "seed_s": seed_s,
                "first_created": first_created,
                "first_s": first_s,
                "follow_up_reminders": Reminder.objects.filter(rule=Rule.FOLLOW_UP).count(),
                "second_created": second_created,
                "second_s": second_s,
                "due_for_delivery": len(due.reminder_ids),
                "select_s": select_s,
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker()
    else:
        main()
