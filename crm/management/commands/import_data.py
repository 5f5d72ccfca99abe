"""python manage.py import_data ENTITY FILE [--dry-run] [--dates iso|dmy|mdy] [--user NAME]

The same rules as the import page: a file with any error changes nothing. Errors are listed,
then one line ``created=N updated=N skipped=N errors=N``; the exit status is non-zero when
anything was in error.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from crm.imports.batches import import_file_now
from crm.imports.engine import DATE_ORDERS, preview_file
from crm.imports.files import ImportFileError, check_size
from crm.imports.registry import ENTITIES


class Command(BaseCommand):
    help = "Import a CSV or XLSX file of one kind of records."

    def add_arguments(self, parser):
        parser.add_argument("entity", choices=list(ENTITIES))
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Preview only; write nothing.")
        parser.add_argument(
            "--dates",
            choices=[key for key, _ in DATE_ORDERS],
            default="iso",
            help="How slashed dates are written: dmy (31/12/2024) or mdy (12/31/2024).",
        )
        parser.add_argument("--user", help="Username recorded as the importer in the history.")

    def handle(self, *args, entity, file, dry_run, dates, user, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        importer = None
        if user:
            importer = get_user_model().objects.filter(username=user).first()
            if importer is None:
                raise CommandError(f"No user “{user}”.")
        try:
            check_size(path.stat().st_size)
        except ImportFileError as error:
            raise CommandError(str(error)) from error
        with path.open("rb") as fileobj:
            if dry_run:
                report = preview_file(entity, fileobj, date_order=dates)
            else:
                report, batch = import_file_now(
                    entity=entity,
                    fileobj=fileobj,
                    filename=path.name,
                    date_order=dates,
                    user=importer,
                )
                if batch is not None:
                    self.stderr.write(f"logged as import batch #{batch.pk}")
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        for number, column, message in report.errors():
            where = f"row {number}" if number else "file"
            where += f", {column}" if column else ""
            self.stderr.write(f"{where}: {message}")
        self.stdout.write(report.summary_line())
        if report.has_errors:
            raise SystemExit(1)
