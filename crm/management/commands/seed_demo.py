from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

from crm import synthetic
from crm.models import User

# Each app seeds its own records, in dependency order. Every seed(...) is idempotent.
DEMO_MODULES = ["crm.demo", "cities.demo", "engagements.demo", "pledges.demo", "outreach.demo"]


class Command(BaseCommand):
    help = (
        "Load a small, realistic, deterministic demo dataset. --scale N adds N units of "
        "synthetic volume for benchmarks. Safe to run again: nothing is duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            help="Synthetic volume: each unit adds ~10 cities, 200 contacts, 2,000 engagements, "
            "50 TA requests and 30 pledges.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has users (used by `make run`).",
        )

    def handle(self, *args, scale, if_empty, **options):
        if if_empty and User.objects.exists():
            self.stdout.write("Demo data already loaded.")
            from crm.demo import print_login

            print_login(self.stdout)
            return
        for module_name in DEMO_MODULES:
            module = import_module(module_name)
            with transaction.atomic():
                module.seed(scale=scale, stdout=self.stdout)
        # Benchmark volume comes last, on top of the demo records (one transaction per unit).
        synthetic.seed(scale=scale, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
