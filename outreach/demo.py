"""Demo outreach: notification preferences for the demo team, a draft campaign, and one run of
the reminder rules so the notification list is not empty (delivery is left to the scheduled
scan, which `make run` starts). Idempotent: running it again changes nothing."""

from crm.models import User

from .models import Campaign, NotificationPreference, Rule
from .services import reminders_create_due

PREFERENCES = {
    # username: (delivery, time zone, digest hour, muted rules)
    "amina": (NotificationPreference.Delivery.IMMEDIATE, "Africa/Dakar", 8, []),
    "lucas": (NotificationPreference.Delivery.DIGEST, "America/Bogota", 8, []),
    "sofia": (
        NotificationPreference.Delivery.IMMEDIATE,
        "Europe/Zurich",
        8,
        [Rule.PLEDGE_CHECK_IN],
    ),
    "priya": (NotificationPreference.Delivery.DIGEST, "Europe/London", 7, []),
    "jon": (NotificationPreference.Delivery.IMMEDIATE, "America/New_York", 9, []),
}

CAMPAIGN_BODY = """Dear {{ first_name }},

The Mayors Migration Council is preparing the mayoral delegation to the next Global Forum on
Migration and Development. We would be glad to see {{ city }} represented, and to help you
prepare a statement or a side event.

Could you let us know by the end of the month whether your mayor or a city representative
plans to attend?

With best regards,
The MMC team"""


def seed(*, scale, stdout):
    users = {user.username: user for user in User.objects.filter(username__in=PREFERENCES)}
    for username, (delivery, time_zone, hour, muted) in PREFERENCES.items():
        if username in users:
            NotificationPreference.objects.get_or_create(
                user=users[username],
                defaults={
                    "delivery": delivery,
                    "time_zone": time_zone,
                    "digest_hour": hour,
                    "muted_rules": [str(rule) for rule in muted],
                },
            )
    author = users.get("priya") or User.objects.filter(is_superuser=True).first()
    if author and not Campaign.objects.filter(name="GFMD mayoral delegation: call").exists():
        Campaign.objects.create(
            name="GFMD mayoral delegation: call",
            subject="{{ city }} at the next GFMD: will you join the mayoral delegation?",
            body=CAMPAIGN_BODY,
            audience={"focal_point": ["true"]},
            created_by=author,
        )
    created = reminders_create_due()
    stdout.write(f"Outreach: {created} new reminders.")
