from django.core.management.base import BaseCommand

from outreach.services import reminders_run


class Command(BaseCommand):
    help = (
        "Run every reminder rule and deliver what is due, once, exactly as the scheduled scan "
        "does (safe to run while the scheduler runs too). Ends with: created=N sent=N failed=N."
    )

    def handle(self, *args, **options):
        result = reminders_run()
        self.stdout.write(f"created={result.created} sent={result.sent} failed={result.failed}")
