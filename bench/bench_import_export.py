"""Import/export speed and memory (`make bench`, or `python bench/run.py import_export`).

Prints, for SQLite and for PostgreSQL (when reachable):
- committing 10,000 new contacts with city references, then the same rows changed (updates):
  rows/s through the app's importer (full preview, per-row errors, one transaction, history),
  and through django-import-export's plain default ModelResource on the same rows (the
  library's row-by-row path), with the ratio between the two;
- exporting 100,000 contacts as streamed CSV: rows/s and the exporting process's peak memory;
- importing a 100,000-row XLSX file: the importing process's peak memory (SQLite).

Every measurement runs in a fresh process (peak memory is that process's ru_maxrss) against
the benchmark's own databases: a SQLite file in a temporary folder and the PostgreSQL database
``crm_bench_imports``, dropped and re-created each run, so tests and dev data are untouched.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = "crm_bench_imports"
CONTACTS = 10_000
EXPORT_ROWS = 100_000
CITIES = 200


# --- the parent: orchestrates workers and prints --------------------------------------------


def run_worker(task, database_url, workdir, *args):
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        DJANGO_VAR_DIR=str(workdir),
        # Production settings: DEBUG would record every query and slow everything down.
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or "bench-" + "x" * 50,
    )
    env.pop("CI", None)
    result = subprocess.run(
        [sys.executable, __file__, "worker", task, str(workdir), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"benchmark worker {task} failed")
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


def bench_database(label, url, workdir):
    run_worker("setup", url, workdir)
    ours = run_worker("import", url, workdir, "ours")
    lib = run_worker("import", url, workdir, "library")
    print(f"\n{label}: {CONTACTS:,} contacts with city references")
    for kind, goal in (("new", 2000), ("update", 1000)):
        ratio = ours[kind] / lib[kind]
        print(
            f"  commit {kind:<6}: {ours[kind]:>8,.0f} rows/s (goal ≥ {goal:,})   "
            f"library default: {lib[kind]:>6,.0f} rows/s   ratio {ratio:.1f}× (goal ≥ 4×)   "
            f"[per CPU-second of this process: {ours[kind + '_cpu']:,.0f} vs "
            f"{lib[kind + '_cpu']:,.0f}]"
        )
    print(
        f"  re-import of the same file: {ours['skipped']:,} unchanged, {ours['created_again']} created"
    )
    export = run_worker("export", url, workdir)
    print(
        f"  export {EXPORT_ROWS:,} rows CSV: {export['rows_per_s']:>8,.0f} rows/s (goal ≥ 20,000), "
        f"peak memory {export['peak_mb']:.0f} MB (goal < 200 MB)"
    )
    return export


def main():
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load}: wall-clock figures fall with load.")
    with tempfile.TemporaryDirectory(prefix="crm-bench-imports-") as tmp:
        tmp = Path(tmp)
        sqlite_dir = tmp / "sqlite"
        sqlite_dir.mkdir()
        sqlite_url = f"sqlite:///{sqlite_dir / 'bench.sqlite3'}"
        bench_database("SQLite", sqlite_url, sqlite_dir)
        xlsx = run_worker("xlsx-import", sqlite_url, sqlite_dir)
        print(
            f"  import {xlsx['rows']:,}-row XLSX: {xlsx['rows_per_s']:,.0f} rows/s, "
            f"peak memory {xlsx['peak_mb']:.0f} MB (goal < 500 MB)"
        )
        url = postgres_url()
        if url:
            pg_dir = tmp / "pg"
            pg_dir.mkdir()
            bench_database("PostgreSQL", url, pg_dir)


# --- the workers: one measurement each, in a fresh process -----------------------------------


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def django_setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def contact_rows(count, *, changed=False):
    header = [
        "First name",
        "Last name",
        "Email",
        "Title",
        "City",
        "Organisation",
        "Phone",
        "Languages",
        "Focal point",
        "Consent to outreach",
        "Notes",
    ]
    rows = [header]
    for i in range(count):
        rows.append(
            [
                f"Ana{i}",
                f"Pérez {i}",
                f"contact{i}@bench.example",
                "Deputy mayor" if changed else "Adviser",
                f"Bench City {i % CITIES}, BR",
                "City hall",
                f"+55 11 {i:07d}" if changed else f"+55 21 {i:07d}",
                "pt, en",
                "yes" if i % 10 == 0 else "no",
                "yes",
                "",
            ]
        )
    return rows


def write_csv_file(path, rows):
    import csv

    with path.open("w", encoding="utf-8", newline="") as fileobj:
        csv.writer(fileobj).writerows(rows)


def worker_setup(workdir):
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from cities.models import City, Country

    brazil = Country.objects.get(code="BR")
    cities = [City(name=f"Bench City {i}", country=brazil) for i in range(CITIES)]
    for city in cities:
        city.refresh_search_fields()
    City.objects.bulk_create(cities)
    write_csv_file(workdir / "new.csv", contact_rows(CONTACTS))
    write_csv_file(workdir / "update.csv", contact_rows(CONTACTS, changed=True))
    return {}


def plain_library_dataset(path):
    """The same rows as the plain resource reads them: field-name headers, city by name."""
    import csv

    import tablib

    with path.open(encoding="utf-8") as fileobj:
        rows = list(csv.reader(fileobj))
    dataset = tablib.Dataset(
        headers=[
            "first_name",
            "last_name",
            "email",
            "title",
            "city",
            "organisation",
            "phone",
            "languages",
            "is_focal_point",
            "consent_to_outreach",
            "notes",
        ]
    )
    for row in rows[1:]:
        row = list(row)
        row[4] = row[4].rsplit(",", 1)[0]
        row[8] = "1" if row[8] == "yes" else "0"
        row[9] = "1" if row[9] == "yes" else "0"
        dataset.append(row)
    return dataset


def worker_import(workdir, which):
    from cities.models import City, Contact

    Contact.objects.all().delete()
    Contact.history.all().delete()
    result = {}
    if which == "ours":
        from crm.imports.engine import commit_file

        for kind, name in (("new", "new.csv"), ("update", "update.csv")):
            with (workdir / name).open("rb") as fileobj:
                start, cpu = time.perf_counter(), time.process_time()
                report = commit_file("contacts", fileobj)
                elapsed = time.perf_counter() - start
                result[f"{kind}_cpu"] = CONTACTS / (time.process_time() - cpu)
            assert (
                report.committed
                and report.counts["create" if kind == "new" else "update"] == CONTACTS
            ), report.counts
            result[kind] = CONTACTS / elapsed
        with (workdir / "update.csv").open("rb") as fileobj:
            report = commit_file("contacts", fileobj)
        result["skipped"] = report.counts["skip"]
        result["created_again"] = report.counts["create"]
    else:
        from import_export import fields, resources, widgets

        class PlainContactResource(resources.ModelResource):
            city = fields.Field(
                attribute="city", column_name="city", widget=widgets.ForeignKeyWidget(City, "name")
            )

            class Meta:
                model = Contact
                fields = (
                    "first_name",
                    "last_name",
                    "email",
                    "title",
                    "city",
                    "organisation",
                    "phone",
                    "languages",
                    "is_focal_point",
                    "consent_to_outreach",
                    "notes",
                )
                import_id_fields = ("email",)

        for kind, name in (("new", "new.csv"), ("update", "update.csv")):
            dataset = plain_library_dataset(workdir / name)
            start, cpu = time.perf_counter(), time.process_time()
            outcome = PlainContactResource().import_data(dataset, dry_run=False)
            elapsed = time.perf_counter() - start
            result[f"{kind}_cpu"] = CONTACTS / (time.process_time() - cpu)
            assert not outcome.has_errors() and not outcome.has_validation_errors()
            result[kind] = CONTACTS / elapsed
    assert Contact.objects.count() == CONTACTS
    return result


def worker_seed_export(workdir):
    """Bring the contacts table to EXPORT_ROWS rows (bulk, no history: only the export is timed)."""
    from cities.models import City, Contact

    have = Contact.objects.count()
    cities = list(City.objects.filter(name__startswith="Bench City"))
    batch = []
    for i in range(have, EXPORT_ROWS):
        batch.append(
            Contact(
                first_name=f"Bo{i}",
                last_name=f"Lü {i}",
                name_key=f"bo{i} lu {i}",
                email=f"export{i}@bench.example",
                title="=Officer" if i % 100 == 0 else "Officer",
                city=cities[i % len(cities)],
                phone=f"+41 22 {i:07d}",
                languages="fr",
            )
        )
        if len(batch) == 5000:
            Contact.objects.bulk_create(batch)
            batch = []
    Contact.objects.bulk_create(batch)
    return {}


def worker_export(workdir):
    from cities.models import Contact
    from crm.imports.exporting import iter_csv
    from crm.imports.registry import get_resource

    rows = Contact.objects.count()
    start = time.perf_counter()
    size = 0
    # The same generator the streamed HTTP response sends, chunk by chunk.
    for chunk in iter_csv(get_resource("contacts"), Contact.objects.all()):
        size += len(chunk)
    elapsed = time.perf_counter() - start
    return {"rows": rows, "rows_per_s": rows / elapsed, "peak_mb": peak_mb(), "bytes": size}


def worker_write_xlsx(workdir):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Contacts")
    for i, row in enumerate(contact_rows(EXPORT_ROWS)):
        if i:
            row[2] = f"xlsx{i}@bench.example"
        sheet.append(row)
    workbook.save(workdir / "big.xlsx")
    return {}


def worker_xlsx_import(workdir):
    from cities.models import Contact
    from crm.imports.engine import commit_file

    Contact.objects.all().delete()
    with (workdir / "big.xlsx").open("rb") as fileobj:
        start = time.perf_counter()
        report = commit_file("contacts", fileobj)
        elapsed = time.perf_counter() - start
    assert report.committed, report.errors()[:3]
    rows = report.counts["create"]
    return {"rows": rows, "rows_per_s": rows / elapsed, "peak_mb": peak_mb()}


def worker(task, workdir, *args):
    django_setup()
    workdir = Path(workdir)
    if task == "export":
        # Seeding in its own process keeps its memory out of the export's peak.
        subprocess.run(
            [sys.executable, __file__, "worker", "seed-export", str(workdir)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    if task == "xlsx-import":
        subprocess.run(
            [sys.executable, __file__, "worker", "write-xlsx", str(workdir)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    tasks = {
        "setup": worker_setup,
        "import": worker_import,
        "seed-export": worker_seed_export,
        "export": worker_export,
        "write-xlsx": worker_write_xlsx,
        "xlsx-import": worker_xlsx_import,
    }
    print(json.dumps(tasks[task](workdir, *args)))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(*sys.argv[2:])
    else:
        main()
