"""Page speed under load: the dashboard, the big lists and a city page.

For PostgreSQL (its own database, crm_bench_pages) and then SQLite (var/bench-pages-sqlite/):
loads `seed_demo --scale 100` (about 1,000 cities, 20,000 contacts, 200,000 engagements),
serves the app with gunicorn (2 workers) on 127.0.0.1 with production settings (DEBUG off),
then a second process plays 10 users who log in once through the login form and each request
every page 15 times, with a pause between requests (0.5-2 s) as a person clicking would.
Prints the median and 95th percentile per page against the goals.

Environment: BENCH_SCALE (100), BENCH_REQUESTS (per user and page, 15), BENCH_DATABASES
("postgresql,sqlite"), BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/crm_bench_pages).
Run with `make bench ONLY=pages` or `python bench/bench_pages.py`.
"""

import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
SCALE = int(os.environ.get("BENCH_SCALE", "100"))
USERS = 10
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "15"))
# A person reads a page before the next click; 0.5-2 s is still a brisk user (10 such users
# send about 7 requests a second).
THINK_SECONDS = (0.5, 2.0)
DATABASES = os.environ.get("BENCH_DATABASES", "postgresql,sqlite").split(",")
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/crm_bench_pages")
USERNAME = "bench-manager"
LOAD_DEADLINE_SECONDS = 900  # the whole load run of one database, whatever happens

# (median, p95) goals in milliseconds, by kind of page.
GOALS = {"dashboard": (150, 300), "list": (100, 200), "city": (150, None)}

# Production settings; loopback is plain HTTP, so no redirect to HTTPS.
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-" + "k" * 50,
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "http://127.0.0.1",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
}

# Run by `manage.py shell` in the benchmark's environment: the bench user and the pages' URLs.
PREPARE = r"""
import json, os
from django.contrib.auth.models import Group
from django.db.models import Count
from cities.models import City, Contact
from crm.models import User
from crm.core.roles import MANAGER
from engagements.models import Engagement

user, _ = User.objects.get_or_create(username="{username}", defaults={{"first_name": "Bench"}})
user.set_password(os.environ["BENCH_PASSWORD"])
user.save()
user.groups.add(Group.objects.get(name=MANAGER))

def last_page(count, per_page=25):
    return max(1, -(-count // per_page))

city_statuses = ["prospect", "engaged", "partner"]
cities = City.objects.filter(status__in=city_statuses).count()
contacts = Contact.objects.filter(is_focal_point=False).count()
busiest = (
    City.objects.annotate(n=Count("engagements")).order_by("-n", "pk").values("pk", "n").first()
)
print("BENCH-JSON " + json.dumps({{
    "city_statuses": city_statuses,
    "city_pages": last_page(cities),
    "contact_pages": last_page(contacts),
    "engagement_pages": last_page(Engagement.objects.filter(kind__in=["meeting", "call"]).count()),
    "busiest_city": busiest["pk"],
    "busiest_city_engagements": busiest["n"],
    "engagements": Engagement.objects.count(),
    "cities": City.objects.count(),
    "contacts": Contact.objects.count(),
}}))
"""


def _pages(info):
    """(name, kind, path) of every measured page."""
    deep_city = min(100, info["city_pages"])
    statuses = urlencode([("status", s) for s in info["city_statuses"]])
    kinds = "kind=meeting&kind=call"
    return [
        ("dashboard", "dashboard", "/dashboard/"),
        ("city list, filtered, page 1", "list", f"/cities/?{statuses}"),
        (f"city list, filtered, page {deep_city}", "list", f"/cities/?{statuses}&page={deep_city}"),
        ("contact list, filtered, page 1", "list", "/cities/contacts/?focal_point=false"),
        (
            "contact list, filtered, page 100",
            "list",
            "/cities/contacts/?focal_point=false&page=100",
        ),
        ("engagement list, filtered, page 1", "list", f"/engagements/?{kinds}"),
        ("engagement list, filtered, page 100", "list", f"/engagements/?{kinds}&page=100"),
        ("city page with timeline", "city", f"/cities/{info['busiest_city']}/"),
    ]


# --- The load generator (a second process) ------------------------------------------------


class Browser:
    """One user: a keep-alive connection and the session cookies."""

    def __init__(self, base):
        parsed = urlparse(base)
        self.host, self.port = parsed.hostname, parsed.port
        self.cookies = {}
        self.connection = None

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                content = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
            self.connection = None
        return response.status, content

    def login(self, username, password):
        status, content = self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content).group(1)
        body = urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token.decode()}
        )
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login failed (HTTP {status})")


def run_load(base, pages, password):
    """Every page in turn: USERS threads, REQUESTS each, timings in milliseconds."""
    deadline = time.monotonic() + LOAD_DEADLINE_SECONDS
    browsers = [Browser(base) for _ in range(USERS)]
    for browser in browsers:
        browser.login(USERNAME, password)
    for _, _, path in pages:  # warm up: caches, connections, compiled templates
        browsers[0].request("GET", path)
    results = {}
    for name, _, path in pages:
        timings, errors = [], []
        lock = threading.Lock()

        def user(browser, seed, path=path, timings=timings, errors=errors, lock=lock):
            rng = random.Random(seed)
            for _ in range(REQUESTS):
                if time.monotonic() > deadline:
                    return
                time.sleep(rng.uniform(*THINK_SECONDS))
                started = time.perf_counter()
                status, _ = browser.request("GET", path)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    (timings if status == 200 else errors).append(
                        elapsed if status == 200 else status
                    )

        threads = [threading.Thread(target=user, args=(b, i)) for i, b in enumerate(browsers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results[name] = {"timings": timings, "errors": errors}
    return results


# --- Set-up and report ----------------------------------------------------------------------


def _env(database):
    env = {**os.environ, **PRODUCTION_ENV}
    env["DJANGO_VAR_DIR"] = str(ROOT / "var" / f"bench-pages-{database}")
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    if database == "postgresql":
        env["DATABASE_URL"] = PG_URL
    else:
        env.pop("DATABASE_URL", None)
    return env


def _manage(env, *args, capture=False):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        capture_output=capture,
        timeout=3600,
    )
    return result.stdout


def _ensure_pg_database():
    import psycopg

    parsed = urlparse(PG_URL)
    name = parsed.path.lstrip("/")
    admin = PG_URL.replace(parsed.path, "/postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
        # Random reads cost little more than sequential ones on SSDs; with PostgreSQL's default
        # (4, tuned for spinning disks) the planner scans all engagements to find one city's.
        conn.execute(f'ALTER DATABASE "{name}" SET random_page_cost = 1.1')


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(port, process, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer in time")


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _report(database, info, pages, results, cold, load_before):
    load = ", ".join(f"{x:.1f}" for x in load_before)
    print(f"\n{database}: load average before the run {load} (2 cores shared with other work)")
    print(
        f"{database}: {info['cities']:,} cities, {info['contacts']:,} contacts, "
        f"{info['engagements']:,} engagements; {USERS} users x {REQUESTS} requests per page; "
        f"city page = the busiest city ({info['busiest_city_engagements']} engagements)"
    )
    print(f"  {'page':<40} {'median':>8} {'p95':>8} {'n':>5}  goal")
    failed = []
    for name, kind, _ in pages:
        timings = results[name]["timings"]
        errors = results[name]["errors"]
        if not timings:
            print(f"  {name:<40} {'—':>8} {'—':>8} {0:>5}  errors: {errors[:5]}")
            failed.append(name)
            continue
        median, p95 = statistics.median(timings), _percentile(timings, 0.95)
        goal_median, goal_p95 = GOALS[kind]
        ok = median <= goal_median and (goal_p95 is None or p95 <= goal_p95) and not errors
        goal = f"median ≤ {goal_median}" + (f", p95 ≤ {goal_p95}" if goal_p95 else "")
        print(
            f"  {name:<40} {median:>6.0f}ms {p95:>6.0f}ms {len(timings):>5}  {goal}: "
            f"{'ok' if ok else 'MISSED'}" + (f" ({len(errors)} errors)" if errors else "")
        )
        if not ok:
            failed.append(name)
    print(
        f"  {'dashboard recomputed (?refresh, 1 user)':<40} {statistics.median(cold):>6.0f}ms "
        f"{max(cold):>6.0f}ms {len(cold):>5}  (figures not yet cached: after a bulk load "
        "or when the cache expires)"
    )
    return failed


def bench(database):
    env = _env(database)
    Path(env["DJANGO_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    if database == "postgresql":
        _ensure_pg_database()
    started = time.monotonic()
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "seed_demo", "--scale", str(SCALE), capture=True)
    _manage(env, "collectstatic", "--noinput", "-v0")
    print(f"{database}: data ready in {time.monotonic() - started:.0f} s", flush=True)
    password = secrets.token_urlsafe(16)
    env_with_password = {**env, "BENCH_PASSWORD": password}
    out = _manage(env_with_password, "shell", "-c", PREPARE.format(username=USERNAME), capture=True)
    info = json.loads(out.split("BENCH-JSON ", 1)[1].splitlines()[0])
    pages = _pages(info)

    load_before = os.getloadavg()
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        _wait_until_up(port, server)
        load = subprocess.run(
            [sys.executable, __file__, "--load", f"http://127.0.0.1:{port}", json.dumps(pages)],
            env={**os.environ, "BENCH_PASSWORD": password},
            capture_output=True,
            text=True,
            timeout=LOAD_DEADLINE_SECONDS + 120,
        )
        if load.returncode != 0:
            print(load.stdout, load.stderr)
            return [f"{database}: load generator failed"]
        results = json.loads(load.stdout.split("BENCH-JSON ", 1)[1])
        # The dashboard's cost when its figures must be computed, one request at a time.
        browser = Browser(f"http://127.0.0.1:{port}")
        browser.login(USERNAME, password)
        cold = []
        for _ in range(5):
            started = time.perf_counter()
            browser.request("GET", "/dashboard/?refresh=1")
            cold.append((time.perf_counter() - started) * 1000)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return [
        f"{database}: {name}" for name in _report(database, info, pages, results, cold, load_before)
    ]


def main():
    if sys.argv[1:2] == ["--load"]:
        results = run_load(sys.argv[2], json.loads(sys.argv[3]), os.environ["BENCH_PASSWORD"])
        print("BENCH-JSON " + json.dumps(results))
        return
    missed = []
    for database in DATABASES:
        missed += bench(database.strip())
    if missed:
        print("\nGoals missed: " + "; ".join(missed))


if __name__ == "__main__":
    main()
