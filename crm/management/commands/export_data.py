"""python manage.py export_data ENTITY FILE — every record of ENTITY to FILE (.csv or .xlsx)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.imports.exporting import write_csv, write_xlsx
from crm.imports.registry import ENTITIES, get_resource


class Command(BaseCommand):
    help = "Export one kind of records to a CSV or XLSX file (the format follows the extension)."

    def add_arguments(self, parser):
        parser.add_argument("entity", choices=list(ENTITIES))
        parser.add_argument("file")

    def handle(self, *args, entity, file, **options):
        path = Path(file)
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise CommandError("The file name must end in .csv or .xlsx.")
        resource = get_resource(entity)
        queryset = resource._meta.model._default_manager.all()
        if suffix == ".csv":
            with path.open("w", encoding="utf-8", newline="") as fileobj:
                write_csv(resource, queryset, fileobj)
        else:
            with path.open("wb") as fileobj:
                write_xlsx(resource, queryset, fileobj)
        self.stdout.write(f"exported {queryset.count()} {entity} to {path}")
