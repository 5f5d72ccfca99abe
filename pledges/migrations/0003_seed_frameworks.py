"""Seeds the frameworks pledges serve (the data and the rules live in pledges/frameworks.py)."""

from django.db import migrations

from pledges.frameworks import ensure_frameworks, remove_unused_frameworks


def seed_frameworks(apps, schema_editor):
    ensure_frameworks(apps.get_model("pledges", "Framework"), using=schema_editor.connection.alias)


def unseed_frameworks(apps, schema_editor):
    remove_unused_frameworks(apps.get_model("pledges", "Framework"))


class Migration(migrations.Migration):
    dependencies = [
        ("pledges", "0002_pledge_target_after_announcement"),
    ]

    operations = [
        migrations.RunPython(seed_frameworks, unseed_frameworks),
    ]
