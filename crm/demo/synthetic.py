"""Synthetic volume for benchmarks and load tests: ``manage.py seed_demo --scale N``.

A *unit* is 10 cities, 200 contacts, 2,000 engagements, 50 TA requests, 30 pledges, 2 events with
their participations, 2 policy contributions and 1 policy outcome. Unit ``k`` is built from its
own ``random.Random(SEED + k)`` so its records are the same whatever order units are added in, and
each unit is written in one transaction: a unit exists completely or not at all. Running
``--scale 5`` twice adds nothing; ``--scale 8`` afterwards adds units 5, 6 and 7.

Rows go in with ``bulk_create`` (many-to-many through rows included). ``save()`` is bypassed, so
the folded search fields are filled here, and no history rows are written: synthetic records have
no past worth auditing.
"""

import datetime
import random

from django.db import connection, transaction
from django.db.models.functions import Substr
from django.utils import timezone

from cities.models import City, CityNetwork, Contact, Country
from crm.core.text import fold
from crm.demo.team import DEMO_TEAM
from crm.models import User
from engagements.models import (
    Engagement,
    Event,
    Participation,
    PolicyContribution,
    PolicyOutcome,
    Process,
    TARequest,
    TATransition,
)
from pledges.models import Framework, Pledge, PledgeUpdate

SEED = 20240611
CITY_PREFIX = "Synthville "
CITIES_PER_UNIT = 10
CONTACTS_PER_UNIT = 200
ENGAGEMENTS_PER_UNIT = 2000
TA_PER_UNIT = 50
PLEDGES_PER_UNIT = 30
EVENTS_PER_UNIT = 2
BATCH = 1000
HISTORY_DAYS = 3 * 365

# Used only when the cities app has not loaded its countries (for example in a bare test DB).
FALLBACK_COUNTRIES = [
    ("BR", "Brazil", Country.Region.LATIN_AMERICA),
    ("CO", "Colombia", Country.Region.LATIN_AMERICA),
    ("KE", "Kenya", Country.Region.AFRICA),
    ("DE", "Germany", Country.Region.EUROPE),
    ("JO", "Jordan", Country.Region.MIDDLE_EAST),
    ("IN", "India", Country.Region.ASIA_PACIFIC),
    ("US", "United States", Country.Region.NORTH_AMERICA),
]
FALLBACK_NETWORKS = ["Synthetic network A", "Synthetic network B", "Synthetic network C"]
FALLBACK_FRAMEWORKS = [
    (Framework.Kind.CALL_TO_LOCAL_ACTION, None, "Call to Local Action for Migrants and Refugees"),
    (Framework.Kind.GCM_OBJECTIVE, 15, "Provide access to basic services for migrants"),
    (Framework.Kind.GCM_OBJECTIVE, 16, "Empower migrants and societies for full inclusion"),
    (Framework.Kind.GCR_AREA, None, "Jobs and livelihoods"),
]

FIRST_NAMES = ["Ana", "Bilal", "Chen", "Dara", "Elif", "Femi", "Giulia", "Hana", "Iván", "Jae"]
LAST_NAMES = ["Adeyemi", "Bauer", "Cortés", "Dubois", "Eriksen", "Farah", "García", "Haddad"]
LANGUAGES = ["en", "es", "fr", "ar", "pt", "de"]
CITY_STATUSES = [  # (status, weight)
    (City.Status.PARTNER, 40),
    (City.Status.ENGAGED, 30),
    (City.Status.PROSPECT, 20),
    (City.Status.FORMER, 10),
]
ENGAGEMENT_KINDS = [
    (Engagement.Kind.MEETING, 30),
    (Engagement.Kind.CALL, 25),
    (Engagement.Kind.EMAIL, 20),
    (Engagement.Kind.DIALOGUE, 8),
    (Engagement.Kind.WORKSHOP, 8),
    (Engagement.Kind.SITE_VISIT, 4),
    (Engagement.Kind.OTHER, 5),
]
# The workflow path each final status went through.
TA_PATHS = {
    TARequest.Status.RECEIVED: [],
    TARequest.Status.ACCEPTED: [TARequest.Status.ACCEPTED],
    TARequest.Status.IN_PROGRESS: [TARequest.Status.ACCEPTED, TARequest.Status.IN_PROGRESS],
    TARequest.Status.DELIVERED: [
        TARequest.Status.ACCEPTED,
        TARequest.Status.IN_PROGRESS,
        TARequest.Status.DELIVERED,
    ],
    TARequest.Status.CLOSED: [
        TARequest.Status.ACCEPTED,
        TARequest.Status.IN_PROGRESS,
        TARequest.Status.DELIVERED,
        TARequest.Status.CLOSED,
    ],
    TARequest.Status.DECLINED: [TARequest.Status.DECLINED],
}
PLEDGE_STATUSES = [
    (Pledge.Status.ANNOUNCED, 20),
    (Pledge.Status.IN_PROGRESS, 40),
    (Pledge.Status.ACHIEVED, 20),
    (Pledge.Status.STALLED, 15),
    (Pledge.Status.WITHDRAWN, 5),
]


def _pick(rng, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _day_in_history(rng, today):
    return today - datetime.timedelta(days=rng.randrange(HISTORY_DAYS))


class _Refs:
    """The shared rows units point at: countries, networks, frameworks, owners."""

    def __init__(self):
        countries = list(Country.objects.order_by("code"))
        if not countries:
            for code, name, region in FALLBACK_COUNTRIES:
                Country.objects.get_or_create(code=code, defaults={"name": name, "region": region})
            countries = list(Country.objects.order_by("code"))
        self.countries = countries

        networks = list(CityNetwork.objects.order_by("pk"))
        if not networks:
            networks = [CityNetwork.objects.get_or_create(name=n)[0] for n in FALLBACK_NETWORKS]
        self.networks = networks

        frameworks = list(Framework.objects.order_by("pk"))
        if not frameworks:
            frameworks = [
                Framework.objects.get_or_create(kind=kind, title=title, defaults={"number": num})[0]
                for kind, num, title in FALLBACK_FRAMEWORKS
            ]
        self.frameworks = frameworks

        team = [username for username, *_ in DEMO_TEAM]
        owners = list(User.objects.filter(username__in=team).order_by("pk"))
        self.owners = owners or list(User.objects.filter(is_active=True).order_by("pk"))
        if not self.owners:
            raise RuntimeError("Synthetic data needs at least one user: load the demo users first.")


def existing_units():
    """Numbers of the units already in the database (a unit's cities are numbered 10k..10k+9)."""
    numbers = (
        City.objects.filter(name__startswith=CITY_PREFIX)
        .annotate(number=Substr("name", len(CITY_PREFIX) + 1))
        .values_list("number", flat=True)
    )
    return {int(number) // CITIES_PER_UNIT for number in numbers}


def seed(*, scale, stdout=None):
    """Make sure units 0..scale-1 exist; returns how many were added."""
    if scale <= 0:
        return 0
    missing = [k for k in range(scale) if k not in existing_units()]
    if not missing:
        if stdout:
            stdout.write(f"Synthetic volume: {scale} units already present.")
        return 0
    refs = _Refs()
    today = timezone.localdate()
    for done, unit in enumerate(missing, start=1):
        with transaction.atomic():
            _build_unit(unit, refs, today)
        if stdout and (done % 10 == 0 or done == len(missing)):
            stdout.write(f"Synthetic volume: {done}/{len(missing)} units added.")
    # Fresh planner statistics: right after a bulk load they still describe the empty tables,
    # and the planner then picks nested loops over hundreds of thousands of rows.
    # VACUUM also marks the new pages all-visible, so counts can use index-only scans; it
    # cannot run inside a transaction (tests), where ANALYZE alone does.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
    return len(missing)


def _build_unit(unit, refs, today):
    rng = random.Random(SEED + unit)
    cities = _cities(unit, rng, refs)
    contacts = _contacts(unit, rng, cities)
    _engagements(rng, refs, today, cities, contacts)
    _ta_requests(unit, rng, refs, today, cities, contacts)
    events = _events(unit, rng, today)
    _participations(rng, refs, cities, contacts, events)
    _pledges(unit, rng, refs, today, cities, events)
    _policy(unit, rng, today, cities, events)


def _cities(unit, rng, refs):
    cities = []
    for i in range(CITIES_PER_UNIT):
        number = unit * CITIES_PER_UNIT + i
        population = rng.randrange(50_000, 12_000_000)
        city = City(
            name=f"{CITY_PREFIX}{number:05d}",
            aliases=f"Synth {number}",
            country=rng.choice(refs.countries),
            status=_pick(rng, CITY_STATUSES),
            population=population,
            population_year=rng.choice([2020, 2021, 2022, 2023]),
            migrant_population=population * rng.randrange(2, 40) // 100,
            migrant_population_year=2022,
            figures_source="Synthetic",
        )
        city.refresh_search_fields()
        cities.append(city)
    City.objects.bulk_create(cities)
    through = City.networks.through
    links = []
    for city in cities:
        for network in rng.sample(refs.networks, k=min(len(refs.networks), rng.randrange(0, 3))):
            links.append(through(city_id=city.pk, citynetwork_id=network.pk))
    through.objects.bulk_create(links, batch_size=BATCH)
    return cities


def _contacts(unit, rng, cities):
    contacts = []
    for i in range(CONTACTS_PER_UNIT):
        number = unit * CONTACTS_PER_UNIT + i
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        contact = Contact(
            first_name=first,
            last_name=f"{last} {number:07d}",
            title=rng.choice(["Deputy Mayor", "Migration Officer", "Chief of Staff", "Advisor"]),
            city=cities[i % len(cities)],
            organisation="City Hall",
            email=f"contact{number:07d}@synth.example.org",
            languages=", ".join(rng.sample(LANGUAGES, k=rng.randrange(1, 3))),
            is_focal_point=rng.random() < 0.1,
            consent_to_outreach=rng.random() < 0.7,
        )
        contact.name_key = fold(contact.full_name)
        contacts.append(contact)
    Contact.objects.bulk_create(contacts, batch_size=BATCH)
    return contacts


def _engagements(rng, refs, today, cities, contacts):
    # Uneven attention: some cities get far more engagements than others.
    city_weights = [rng.choice([1, 2, 4, 8]) for _ in cities]
    contacts_by_city = {}
    for contact in contacts:
        contacts_by_city.setdefault(contact.city_id, []).append(contact)
    engagements, picks = [], []
    for i in range(ENGAGEMENTS_PER_UNIT):
        day = _day_in_history(rng, today)
        roll = rng.random()
        if roll < 0.10:  # open, due on or before today
            follow_up, done = today - datetime.timedelta(days=rng.randrange(0, 90)), False
        elif roll < 0.15:  # open, due within the next week
            follow_up, done = today + datetime.timedelta(days=rng.randrange(1, 8)), False
        elif roll < 0.30:  # done
            follow_up, done = day + datetime.timedelta(days=rng.randrange(1, 30)), True
        else:
            follow_up, done = None, False
        kind = _pick(rng, ENGAGEMENT_KINDS)
        engagements.append(
            Engagement(
                date=day,
                kind=kind,
                owner=rng.choice(refs.owners),
                summary=f"{Engagement.Kind(kind).label} on inclusion plans #{i}",
                outcome="Agreed next steps." if rng.random() < 0.5 else "",
                follow_up_date=follow_up,
                follow_up_done=done,
            )
        )
        chosen = rng.choices(cities, city_weights, k=rng.choice([1, 1, 2]))
        chosen = list({c.pk: c for c in chosen}.values())
        pool = contacts_by_city[chosen[0].pk]
        picks.append((chosen, rng.sample(pool, k=rng.randrange(0, 3))))
    Engagement.objects.bulk_create(engagements, batch_size=BATCH)
    city_rows, contact_rows = [], []
    city_through = Engagement.cities.through
    contact_through = Engagement.contacts.through
    for engagement, (chosen, people) in zip(engagements, picks, strict=True):
        city_rows += [city_through(engagement_id=engagement.pk, city_id=c.pk) for c in chosen]
        contact_rows += [
            contact_through(engagement_id=engagement.pk, contact_id=p.pk) for p in people
        ]
    city_through.objects.bulk_create(city_rows, batch_size=BATCH)
    contact_through.objects.bulk_create(contact_rows, batch_size=BATCH)


def _ta_requests(unit, rng, refs, today, cities, contacts):
    statuses = list(TA_PATHS)
    requests, paths = [], []
    for i in range(TA_PER_UNIT):
        status = statuses[i % len(statuses)]
        if status in TARequest.OPEN_STATUSES:  # open requests are mostly recent ones
            received = today - datetime.timedelta(days=rng.randrange(240))
        else:
            received = _day_in_history(rng, today)
        steps = TA_PATHS[status]
        # Steps happen one to three weeks apart, never after today.
        step_days = []
        day = received
        for _ in steps:
            day = min(today, day + datetime.timedelta(days=rng.randrange(7, 22)))
            step_days.append(day)
        delivered_on = None
        if TARequest.Status.DELIVERED in steps:
            delivered_on = step_days[steps.index(TARequest.Status.DELIVERED)]
        city = rng.choice(cities)
        requests.append(
            TARequest(
                city=city,
                requested_by=rng.choice(contacts[:20]) if rng.random() < 0.8 else None,
                topic=f"Technical assistance {unit:05d}-{i:02d}: inclusion strategy",
                priority=rng.choice(list(TARequest.Priority)),
                owner=rng.choice(refs.owners) if rng.random() < 0.9 else None,
                received_on=received,
                due_date=received + datetime.timedelta(days=rng.randrange(30, 120)),
                status=status,
                delivered_on=delivered_on,
            )
        )
        paths.append(list(zip(steps, step_days, strict=True)))
    TARequest.objects.bulk_create(requests, batch_size=BATCH)
    transitions = []
    for request, path in zip(requests, paths, strict=True):
        previous = TARequest.Status.RECEIVED
        for to_status, day in path:
            transitions.append(
                TATransition(
                    request=request,
                    from_status=previous,
                    to_status=to_status,
                    by=request.owner or refs.owners[0],
                    at=datetime.datetime.combine(day, datetime.time(10), tzinfo=datetime.UTC),
                )
            )
            previous = to_status
    TATransition.objects.bulk_create(transitions, batch_size=BATCH)


def _events(unit, rng, today):
    events = []
    processes = list(Process)
    for i in range(EVENTS_PER_UNIT):
        # Most events are past; one in ten units also has one in the coming months.
        if i == 0 and unit % 10 == 0:
            start = today + datetime.timedelta(days=rng.randrange(5, 120))
        else:
            start = _day_in_history(rng, today)
        process = processes[(unit * EVENTS_PER_UNIT + i) % len(processes)]
        events.append(
            Event(
                name=f"Synthetic {Process(process).label} session {unit:05d}-{i}",
                process=process,
                start_date=start,
                end_date=start + datetime.timedelta(days=rng.randrange(0, 4)),
                place="Geneva",
                registration_deadline=start - datetime.timedelta(days=21),
            )
        )
    Event.objects.bulk_create(events)
    return events


def _participations(rng, refs, cities, contacts, events):
    rows = []
    for event in events:
        for city in rng.sample(cities, k=rng.randrange(3, 7)):
            rows.append(
                Participation(
                    event=event,
                    city=city,
                    contact=rng.choice([c for c in contacts if c.city_id == city.pk]),
                    role=rng.choice(list(Participation.Role)),
                    status=rng.choice(list(Participation.Status)),
                    owner=rng.choice(refs.owners),
                )
            )
    Participation.objects.bulk_create(rows, batch_size=BATCH)


def _pledges(unit, rng, refs, today, cities, events):
    pledges, framework_picks, update_plans = [], [], []
    for i in range(PLEDGES_PER_UNIT):
        status = _pick(rng, PLEDGE_STATUSES)
        announced = _day_in_history(rng, today)
        if status == Pledge.Status.ACHIEVED:
            percent = 100
        elif status == Pledge.Status.ANNOUNCED:
            percent = 0
        else:
            percent = rng.randrange(10, 95, 5)
        # Stalled pledges have not been updated for over six months; others recently.
        if percent == 0:
            last_update = None
        elif status == Pledge.Status.STALLED:
            # Announced long enough ago to have gone quiet for over six months.
            announced = min(announced, today - datetime.timedelta(days=400))
            quiet_since = today - datetime.timedelta(days=190)
            last_update = announced + (quiet_since - announced) * rng.random()
        else:
            last_update = max(announced, today - datetime.timedelta(days=rng.randrange(0, 150)))
        pledges.append(
            Pledge(
                city=cities[i % len(cities)],
                title=f"Synthetic pledge {unit:05d}-{i:02d}: inclusive services",
                event=rng.choice(events) if rng.random() < 0.3 else None,
                announced_on=announced,
                status=status,
                target_date=announced + datetime.timedelta(days=rng.randrange(365, 1100)),
                owner=rng.choice(refs.owners),
                progress_percent=percent,
                last_update_on=last_update,
            )
        )
        count = min(len(refs.frameworks), rng.randrange(1, 3))
        framework_picks.append(rng.sample(refs.frameworks, k=count))
        update_plans.append((percent, last_update))
    Pledge.objects.bulk_create(pledges, batch_size=BATCH)
    through = Pledge.frameworks.through
    links = [
        through(pledge_id=pledge.pk, framework_id=framework.pk)
        for pledge, picks in zip(pledges, framework_picks, strict=True)
        for framework in picks
    ]
    through.objects.bulk_create(links, batch_size=BATCH)
    updates = []
    for pledge, (percent, last_update) in zip(pledges, update_plans, strict=True):
        if last_update is None:
            continue
        if percent > 20 and last_update > pledge.announced_on:
            halfway = pledge.announced_on + (last_update - pledge.announced_on) / 2
            updates.append(
                PledgeUpdate(
                    pledge=pledge, date=halfway, note="Work started.", percent=percent // 2
                )
            )
        updates.append(
            PledgeUpdate(
                pledge=pledge, date=last_update, note="Progress reported.", percent=percent
            )
        )
    PledgeUpdate.objects.bulk_create(updates, batch_size=BATCH)


def _policy(unit, rng, today, cities, events):
    contributions = [
        PolicyContribution(
            kind=rng.choice(list(PolicyContribution.Kind)),
            title=f"Synthetic joint statement {unit:05d}-{i}",
            date=_day_in_history(rng, today),
            process=events[i % len(events)].process,
            event=events[i % len(events)],
        )
        for i in range(2)
    ]
    PolicyContribution.objects.bulk_create(contributions)
    through = PolicyContribution.cities.through
    through.objects.bulk_create(
        [
            through(policycontribution_id=contribution.pk, city_id=city.pk)
            for contribution in contributions
            for city in rng.sample(cities, k=rng.randrange(2, 6))
        ]
    )
    outcome = PolicyOutcome(
        title=f"Synthetic policy position {unit:05d}",
        date=_day_in_history(rng, today),
        description="A global policy text reflecting city priorities.",
    )
    PolicyOutcome.objects.bulk_create([outcome])
    PolicyOutcome.contributions.through.objects.bulk_create(
        [
            PolicyOutcome.contributions.through(
                policyoutcome_id=outcome.pk, policycontribution_id=contributions[0].pk
            )
        ]
    )
