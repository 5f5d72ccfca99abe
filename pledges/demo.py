"""Demo pledges: commitments cities announced at the 2022 IMRF under the Call to Local Action,
at the 2023 Global Refugee Forum and elsewhere, with progress updates; some achieved, some
stalled, one withdrawn. The pledges are illustrative, not MMC's records.

Runs after cities.demo and engagements.demo: cities and events are found by name (an event also
by process and year), and a pledge whose city is missing is skipped. Idempotent: a pledge is
matched by city and title, and its updates are added only when the pledge is new.
"""

import datetime
from datetime import date

from django.utils import timezone

from cities.models import City
from crm.models import User
from engagements.models import Event, Process

from .models import Framework, Pledge
from .services import pledge_add_update

CALL = "call"
IMRF_2022 = "imrf2022"
GRF_2023 = "grf2023"

# Where an event is known by several names, the first found wins.
EVENTS = {
    IMRF_2022: (
        ["International Migration Review Forum 2022", "IMRF 2022"],
        Process.IMRF,
        2022,
    ),
    GRF_2023: (["Global Refugee Forum 2023", "GRF 2023"], Process.GRF, 2023),
}

S = Pledge.Status

# city, title, frameworks (GCM numbers, GCR titles, CALL), event, announced (a date, or days
# before today, so recent pledges stay recent), target, owner, updates [(date or days before
# today, percent, note)], status to set at the end (or None: the updates decide).
PLEDGES = [
    (
        "Bogotá",
        "Expand the migrant integration centres to two more localities",
        [CALL, 15, 16],
        IMRF_2022,
        date(2022, 5, 18),
        date(2025, 12, 31),
        "amina",
        [
            (date(2022, 11, 10), 20, "Sites chosen in Kennedy and Suba."),
            (date(2023, 9, 4), 55, "Kennedy centre open; Suba building under refurbishment."),
            (date(2024, 10, 2), 80, "Suba staff hired and trained."),
            (75, 100, "Both centres open; 14,000 people served in the first quarter."),
        ],
        None,
    ),
    (
        "São Paulo",
        "Municipal migrant council with elected migrant members",
        [CALL, 16, 17],
        IMRF_2022,
        date(2022, 5, 18),
        date(2026, 12, 31),
        "lucas",
        [
            (date(2022, 12, 1), 30, "Council bylaw drafted with migrant associations."),
            (date(2024, 5, 20), 60, "First council election held."),
            (35, 75, "Council's advice adopted in the municipal migration plan."),
        ],
        None,
    ),
    (
        "Montréal",
        "Access to municipal services regardless of immigration status",
        [CALL, 15],
        IMRF_2022,
        date(2022, 5, 19),
        date(2025, 6, 30),
        "sofia",
        [
            (date(2023, 3, 14), 40, "Library and recreation services open to all residents."),
            (date(2024, 1, 22), 50, "Housing services review started."),
        ],
        None,
    ),
    (
        "Zürich",
        "City ID card for all residents",
        [CALL, 4, 16],
        IMRF_2022,
        date(2022, 5, 19),
        date(2024, 12, 31),
        "sofia",
        [
            (date(2022, 12, 5), 25, "Council approved the feasibility study."),
            (date(2023, 10, 18), 35, "Legal opinion on cantonal powers requested."),
        ],
        S.STALLED,
    ),
    (
        "Freetown",
        "Climate-resilient livelihoods for people displaced by floods",
        [CALL, 2, 18, "Jobs and livelihoods"],
        IMRF_2022,
        date(2022, 5, 18),
        date(2026, 6, 30),
        "amina",
        [
            (date(2023, 2, 1), 15, "Community consultations in three settlements."),
            (date(2024, 6, 12), 45, "Tree-planting jobs programme running."),
            (20, 65, "1,200 people in paid green jobs."),
        ],
        None,
    ),
    (
        "Los Angeles",
        "Legal representation fund for immigrant residents",
        [CALL, 7, 15],
        IMRF_2022,
        date(2022, 5, 20),
        date(2023, 12, 31),
        "jon",
        [
            (date(2022, 10, 3), 50, "Fund renewed in the city budget."),
            (date(2023, 11, 30), 100, "Representation available citywide."),
        ],
        None,
    ),
    (
        "Milan",
        "Multilingual one-stop information desk for newcomers",
        [CALL, 3, 15],
        IMRF_2022,
        date(2022, 5, 20),
        date(2025, 12, 31),
        "lucas",
        [
            (date(2023, 4, 11), 30, "Desk open in the city centre, four languages."),
            (60, 60, "Online booking and two more languages added."),
        ],
        None,
    ),
    (
        "Mexico City",
        "Labour inclusion programme for returnees and migrants",
        [CALL, 6, 18, 21],
        IMRF_2022,
        date(2022, 5, 18),
        date(2026, 12, 31),
        "priya",
        [
            (date(2023, 1, 16), 20, "Agreement with the employment service signed."),
            (120, 50, "2,300 people placed in jobs."),
        ],
        None,
    ),
    (
        "Ciudad Juárez",
        "Municipal shelter network for people in transit",
        [CALL, 7, 8],
        IMRF_2022,
        date(2022, 5, 18),
        date(2024, 12, 31),
        "priya",
        [],
        None,
    ),
    (
        "Lima",
        "Metropolitan data observatory on migration",
        [CALL, 1],
        IMRF_2022,
        date(2022, 5, 19),
        date(2025, 12, 31),
        "jon",
        [(date(2024, 3, 8), 35, "Survey module added to the city household survey.")],
        None,
    ),
    (
        "Barranquilla",
        "Integration route for Venezuelan migrants",
        [CALL, 16],
        IMRF_2022,
        date(2022, 5, 20),
        date(2024, 6, 30),
        "amina",
        [
            (date(2023, 5, 2), 70, "Route published; service points trained."),
            (date(2024, 6, 14), 100, "Route running in all service points."),
        ],
        None,
    ),
    (
        "Amman",
        "Vocational training for refugee and host-community youth",
        ["Jobs and livelihoods", "Children, adolescents and youth"],
        GRF_2023,
        date(2023, 12, 13),
        date(2026, 12, 31),
        "sofia",
        [
            (date(2024, 9, 1), 30, "First 400 trainees enrolled."),
            (45, 55, "Second cohort enrolled; 60 % women."),
        ],
        None,
    ),
    (
        "Kampala",
        "Refugee-inclusive urban planning in the city development plan",
        [
            "Fostering good relations and peaceful coexistence with host communities",
            "Accommodation, energy and natural resource management",
        ],
        GRF_2023,
        date(2023, 12, 14),
        date(2027, 6, 30),
        "lucas",
        [(90, 25, "Refugee-hosting divisions mapped with the Office of the Prime Minister.")],
        None,
    ),
    (
        "Quito",
        "Birth registration drive for migrant children",
        ["Civil registries", "Statelessness", 4],
        GRF_2023,
        date(2023, 12, 14),
        date(2025, 12, 31),
        "amina",
        [(date(2024, 4, 30), 40, "Mobile registry units in four parishes.")],
        None,
    ),
    (
        "Athens",
        "Housing programme for recognised refugees leaving camps",
        ["Accommodation, energy and natural resource management", 15],
        None,
        date(2021, 12, 18),
        date(2024, 12, 31),
        "priya",
        [
            (date(2022, 6, 1), 30, "300 apartments leased."),
            (date(2023, 6, 1), 60, "Rent support extended to 2024."),
            (date(2024, 8, 1), 20, "EU funding ended; 120 households still housed."),
        ],
        S.WITHDRAWN,
    ),
    (
        "Denver",
        "Newcomer welcome and navigation service",
        [16],
        None,
        date(2024, 2, 1),
        date(2026, 12, 31),
        "jon",
        [(25, 45, "Navigators in three recreation centres.")],
        None,
    ),
    (
        "Kuala Lumpur",
        "Clinic access for undocumented migrant workers",
        [15, "Health"],
        None,
        60,
        None,
        "sofia",
        [],
        None,
    ),
    (
        "Cali",
        "Anti-xenophobia campaign in schools and local media",
        [17],
        None,
        200,
        None,
        "lucas",
        [(10, 10, "Campaign partners agreed.")],
        None,
    ),
    (
        "Santiago",
        "Entrepreneurship fund for migrant women",
        ["Women and girls", 19],
        None,
        date(2024, 3, 8),
        date(2026, 3, 8),
        "amina",
        [(date(2024, 11, 4), 20, "Call for proposals published.")],
        None,
    ),
    (
        "Medellín",
        "Employment fairs for migrants and returnees",
        [6, 21],
        None,
        20,
        None,
        "jon",
        [],
        None,
    ),
]


def _event(key):
    if key is None:
        return None
    names, process, year = EVENTS[key]
    for name in names:
        event = Event.objects.filter(name=name).order_by("start_date").first()
        if event:
            return event
    return Event.objects.filter(process=process, start_date__year=year).order_by("pk").first()


def _frameworks(keys):
    result = []
    for key in keys:
        if key == CALL:
            queryset = Framework.objects.filter(kind=Framework.Kind.CALL_TO_LOCAL_ACTION)
        elif isinstance(key, int):
            queryset = Framework.objects.filter(kind=Framework.Kind.GCM_OBJECTIVE, number=key)
        else:
            queryset = Framework.objects.filter(kind=Framework.Kind.GCR_AREA, title=key)
        result.extend(queryset[:1])
    return result


def seed(*, scale, stdout):
    today = timezone.localdate()

    def day(value):
        return today - datetime.timedelta(days=value) if isinstance(value, int) else value

    users = {user.username: user for user in User.objects.all()}
    created = skipped = 0
    for city_name, title, frameworks, event, announced, target, owner, updates, status in PLEDGES:
        city = City.objects.filter(name=city_name).first()
        if city is None:
            skipped += 1
            continue
        pledge, is_new = Pledge.objects.get_or_create(
            city=city,
            title=title,
            defaults={
                "event": _event(event),
                "announced_on": day(announced),
                "target_date": target,
                "owner": users.get(owner),
            },
        )
        if not is_new:
            # The event may have been added by a later engagements demo run.
            if pledge.event_id is None and event is not None:
                pledge.event = _event(event)
                if pledge.event:
                    pledge.save(update_fields=["event", "updated_at"])
            continue
        created += 1
        pledge.frameworks.set(_frameworks(frameworks))
        for when, percent, note in updates:
            pledge_add_update(
                pledge=pledge,
                date=day(when),
                note=note,
                percent=percent,
                author=users.get(owner),
            )
        if status:
            pledge.refresh_from_db()
            pledge.status = status
            pledge.save()
    stdout.write(f"Pledges: {created} created, {skipped} skipped (city not found).")
