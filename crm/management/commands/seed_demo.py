from django.core.management.base import BaseCommand

from crm.demo.seed import demo_seed
from crm.demo.team import print_login
from crm.models import User


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
            print_login(self.stdout)
            return
        demo_seed(scale=scale, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
