"""What ``manage.py seed_demo`` does: every app's demo records, then synthetic volume."""

from importlib import import_module

from django.db import transaction

from . import synthetic

# Each app seeds its own records, in dependency order. Every seed(...) is idempotent.
DEMO_MODULES = ["crm.demo.team", "cities.demo", "engagements.demo", "pledges.demo", "outreach.demo"]


def demo_seed(*, scale, stdout):
    """Load the demo dataset, plus ``scale`` units of synthetic volume; safe to run again."""
    for module_name in DEMO_MODULES:
        module = import_module(module_name)
        with transaction.atomic():
            module.seed(scale=scale, stdout=stdout)
    # Benchmark volume comes last, on top of the demo records (one transaction per unit).
    synthetic.seed(scale=scale, stdout=stdout)
