"""Demo records for the engagements app: real multilateral events MMC took cities to, the
delegations, two years of engagements, TA requests in every status, joint statements and the
policy positions they influenced.

Runs after crm.demo.team (the team) and cities.demo (the cities); deterministic and idempotent:
records are looked up by a natural key (an event's name, an engagement's summary, a TA
request's topic and city, a contribution's or outcome's title) and never created twice.
Dates of recent work are relative to today so "My work" always has something overdue and
something due this week. Links point at example.org: the evidence is illustrative."""

import datetime

from django.utils import timezone

from cities.models import City, MayoralTerm
from crm.models import User

from .models import (
    Engagement,
    Event,
    Participation,
    PolicyContribution,
    PolicyOutcome,
    Process,
    TARequest,
    TATransition,
)
from .services import ta_request_transition

TEAM = ["amina", "lucas", "sofia"]
MANAGERS = ["priya", "jon"]

D = datetime.date

# name, process, start, end, place, registration deadline, notes
PAST_EVENTS = [
    (
        "COP26 — UN Climate Change Conference",
        Process.COP,
        D(2021, 10, 31),
        D(2021, 11, 12),
        "Glasgow",
        D(2021, 9, 30),
        "Mayors presented the Global Mayors Action Agenda on Climate and Migration.",
    ),
    (
        "International Migration Review Forum 2022",
        Process.IMRF,
        D(2022, 5, 17),
        D(2022, 5, 20),
        "New York, UN Headquarters",
        D(2022, 4, 15),
        "The first review of the Global Compact for Migration; mayors spoke in the plenary "
        "and round tables.",
    ),
    (
        "UNGA 78 side event: Mayors on climate and migration",
        Process.UNGA,
        D(2023, 9, 20),
        D(2023, 9, 20),
        "New York",
        D(2023, 9, 1),
        "",
    ),
    (
        "Global Refugee Forum 2023",
        Process.GRF,
        D(2023, 12, 13),
        D(2023, 12, 15),
        "Geneva, Palais des Nations",
        D(2023, 11, 10),
        "Cities announced pledges and a joint local-leadership statement.",
    ),
    (
        "GFMD Summit 2024",
        Process.GFMD,
        D(2024, 1, 23),
        D(2024, 1, 25),
        "Geneva",
        D(2023, 12, 15),
        "Mayors Mechanism sessions with states on labour pathways and climate mobility.",
    ),
    (
        "UNGA 79 side event: Cities and the Pact for the Future",
        Process.UNGA,
        D(2024, 9, 24),
        D(2024, 9, 24),
        "New York",
        D(2024, 9, 6),
        "",
    ),
    (
        "HLPF 2025 local and regional governments forum",
        Process.HLPF,
        D(2025, 7, 15),
        D(2025, 7, 15),
        "New York",
        D(2025, 6, 20),
        "",
    ),
]

# Upcoming events, relative to today: (name, process, starts in, lasts, place, deadline in)
UPCOMING_EVENTS = [
    ("GFMD Mayors Mechanism thematic meeting", Process.GFMD, 26, 2, "Geneva", 5),
    (
        "Latin America regional consultation on labour mobility",
        Process.REGIONAL,
        44,
        3,
        "Bogotá",
        10,
    ),
    (
        "UNGA side event: Local action for migrants and refugees",
        Process.UNGA,
        75,
        1,
        "New York",
        40,
    ),
]

# event name, city, role, status, with the mayor?, outcome
PARTICIPATIONS = [
    (
        "COP26 — UN Climate Change Conference",
        "Freetown",
        "speaker",
        "attended",
        True,
        "Presented the Action Agenda with C40 and MMC.",
    ),
    ("COP26 — UN Climate Change Conference", "Los Angeles", "speaker", "attended", True, ""),
    ("COP26 — UN Climate Change Conference", "Milan", "delegate", "attended", False, ""),
    (
        "International Migration Review Forum 2022",
        "Montréal",
        "speaker",
        "attended",
        True,
        "Spoke at round table 2 on regular pathways.",
    ),
    ("International Migration Review Forum 2022", "São Paulo", "delegate", "attended", False, ""),
    (
        "International Migration Review Forum 2022",
        "Kampala",
        "side_event_host",
        "attended",
        True,
        "Co-hosted the side event on urban refugees with UN-Habitat.",
    ),
    ("International Migration Review Forum 2022", "Bogotá", "speaker", "attended", True, ""),
    (
        "UNGA 78 side event: Mayors on climate and migration",
        "Freetown",
        "speaker",
        "attended",
        True,
        "",
    ),
    (
        "UNGA 78 side event: Mayors on climate and migration",
        "Athens",
        "observer",
        "attended",
        False,
        "",
    ),
    (
        "Global Refugee Forum 2023",
        "Amman",
        "speaker",
        "attended",
        True,
        "Announced the city's refugee education pledge.",
    ),
    ("Global Refugee Forum 2023", "Kampala", "delegate", "attended", True, ""),
    ("Global Refugee Forum 2023", "Zürich", "side_event_host", "attended", True, ""),
    ("Global Refugee Forum 2023", "Beirut", "observer", "cancelled", False, ""),
    (
        "GFMD Summit 2024",
        "Ciudad Juárez",
        "speaker",
        "attended",
        True,
        "Shared the city's shelter coordination model.",
    ),
    ("GFMD Summit 2024", "Quito", "delegate", "attended", False, ""),
    ("GFMD Summit 2024", "Montréal", "delegate", "attended", False, ""),
    (
        "UNGA 79 side event: Cities and the Pact for the Future",
        "Los Angeles",
        "speaker",
        "attended",
        True,
        "",
    ),
    (
        "UNGA 79 side event: Cities and the Pact for the Future",
        "Milan",
        "side_event_host",
        "attended",
        True,
        "",
    ),
    (
        "HLPF 2025 local and regional governments forum",
        "Bristol",
        "observer",
        "attended",
        False,
        "",
    ),
    ("GFMD Mayors Mechanism thematic meeting", "Freetown", "speaker", "confirmed", True, ""),
    ("GFMD Mayors Mechanism thematic meeting", "Athens", "delegate", "planned", False, ""),
    (
        "Latin America regional consultation on labour mobility",
        "Bogotá",
        "side_event_host",
        "confirmed",
        True,
        "",
    ),
    (
        "Latin America regional consultation on labour mobility",
        "Medellín",
        "delegate",
        "planned",
        False,
        "",
    ),
    (
        "Latin America regional consultation on labour mobility",
        "Lima",
        "delegate",
        "planned",
        False,
        "",
    ),
    (
        "UNGA side event: Local action for migrants and refugees",
        "Kampala",
        "speaker",
        "planned",
        True,
        "",
    ),
]

# kind, what happened, outcome
ENGAGEMENT_TOPICS = [
    (
        "call",
        "Call with the inclusion office on the pledge workplan",
        "Agreed milestones for the next quarter.",
    ),
    (
        "meeting",
        "Meeting with the deputy mayor on refugee housing",
        "City asked for examples from peer cities.",
    ),
    ("email", "Sent the briefing pack for the upcoming forum", ""),
    (
        "workshop",
        "Peer-learning workshop on labour pathways",
        "Three cities will share their employer-engagement models.",
    ),
    (
        "dialogue",
        "Global dialogue on climate mobility with national delegates",
        "National delegation invited the city to its consultation.",
    ),
    (
        "site_visit",
        "Site visit to the migrant resource centre",
        "Documented the one-stop-shop model for other cities.",
    ),
    ("call", "Call with the focal point on Global Cities Fund reporting", ""),
    (
        "meeting",
        "Bilateral with the mayor's chief of staff",
        "Mayor confirmed interest in the Leadership Board.",
    ),
    ("email", "Shared the draft joint statement for comments", ""),
    (
        "workshop",
        "Workshop on municipal data on displacement",
        "City will pilot the indicator set.",
    ),
    ("dialogue", "Mayors' dialogue with UN agencies on urban refugees", ""),
    ("other", "Introduced the city team to the UN-Habitat focal point", ""),
]

# Recent work is denser: days ago for the first twelve, then every ~two weeks back to two years.
RECENT_OFFSETS = [1, 2, 3, 5, 6, 8, 9, 12, 15, 19, 22, 26]
ENGAGEMENT_COUNT = 60

# topic, city, priority, status, received days ago, due in (days from today), owner
TA_REQUESTS = [
    ("Designing a migrant inclusion office", "Kampala", "high", "received", 3, 30, "amina"),
    (
        "Translating city services into Arabic and Dari",
        "Athens",
        "medium",
        "received",
        6,
        40,
        "sofia",
    ),
    ("Data on climate-displaced residents", "Freetown", "urgent", "accepted", 20, -2, "amina"),
    ("Applying to the Global Cities Fund", "Ciudad Juárez", "high", "accepted", 15, 12, "lucas"),
    ("Refugee labour-market integration pilot", "Amman", "high", "in_progress", 70, -5, "amina"),
    ("Drafting a local migration strategy", "Quito", "medium", "in_progress", 90, 25, "lucas"),
    (
        "Costing a pledge for the Global Refugee Forum",
        "Zürich",
        "medium",
        "delivered",
        160,
        -60,
        "sofia",
    ),
    (
        "Emergency shelter coordination protocol",
        "Ciudad Juárez",
        "urgent",
        "closed",
        300,
        -240,
        "lucas",
    ),
    (
        "Access to municipal services for undocumented residents",
        "Los Angeles",
        "medium",
        "closed",
        420,
        -330,
        "sofia",
    ),
    (
        "Heat-risk protection for informal settlements",
        "Manta",
        "low",
        "declined",
        50,
        None,
        "amina",
    ),
]

WORKFLOW = {
    "received": [],
    "accepted": ["accepted"],
    "in_progress": ["accepted", "in_progress"],
    "delivered": ["accepted", "in_progress", "delivered"],
    "closed": ["accepted", "in_progress", "delivered", "closed"],
    "declined": ["declined"],
}
STEP_COMMENTS = {
    "accepted": "Fits the programme; scoped with the city focal point.",
    "in_progress": "Kick-off call held; peer cities identified.",
    "delivered": "Guidance note and peer examples sent to the city.",
    "closed": "City confirmed the support met its needs.",
    "declined": "Outside MMC's remit; referred to the C40 adaptation team.",
}

# title, kind, date, process, event name, signing cities, summary
CONTRIBUTIONS = [
    (
        "Global Mayors Action Agenda on Climate and Migration",
        PolicyContribution.Kind.POLITICAL_AGENDA,
        D(2021, 10, 29),
        Process.COP,
        "COP26 — UN Climate Change Conference",
        ["Freetown", "Los Angeles", "Milan", "Bristol", "São Paulo", "Montréal"],
        "Commitments by mayors to protect people moving in a changing climate, presented at COP26.",
    ),
    (
        "Submission to the UN Secretary-General's report on the Global Compact for Migration",
        PolicyContribution.Kind.SUBMISSION,
        D(2021, 11, 30),
        Process.IMRF,
        None,
        ["Montréal", "Kampala", "Bogotá", "Athens"],
        "Local evidence of GCM implementation, gathered from partner cities.",
    ),
    (
        "Mayors' joint statement to the International Migration Review Forum",
        PolicyContribution.Kind.JOINT_STATEMENT,
        D(2022, 5, 17),
        Process.IMRF,
        "International Migration Review Forum 2022",
        ["Montréal", "São Paulo", "Kampala", "Bogotá", "Freetown", "Zürich", "Milan", "Amman"],
        "Mayors call on states to include cities in the follow-up and review of the GCM.",
    ),
    (
        "Local leadership statement to the Global Refugee Forum",
        PolicyContribution.Kind.JOINT_STATEMENT,
        D(2023, 12, 13),
        Process.GRF,
        "Global Refugee Forum 2023",
        ["Amman", "Kampala", "Zürich", "Athens", "Beirut", "Bogotá"],
        "Cities commit to pledges on inclusion, education and livelihoods for refugees.",
    ),
    (
        "Mayors Mechanism recommendations to the GFMD Summit",
        PolicyContribution.Kind.SUBMISSION,
        D(2024, 1, 23),
        Process.GFMD,
        "GFMD Summit 2024",
        ["Ciudad Juárez", "Quito", "Montréal", "Mexico City"],
        "",
    ),
]

# title, date, contributions (by title), description
OUTCOMES = [
    (
        "UN Secretary-General's report on the GCM cites local action",
        D(2021, 12, 27),
        ["Submission to the UN Secretary-General's report on the Global Compact for Migration"],
        "The report draws on city examples submitted through MMC.",
    ),
    (
        "IMRF Progress Declaration recognises local governments",
        D(2022, 6, 7),
        ["Mayors' joint statement to the International Migration Review Forum"],
        "The declaration adopted by the General Assembly references the role of local "
        "authorities in implementing the Compact.",
    ),
    (
        "COP outcome language on human mobility reflects city asks",
        D(2021, 11, 13),
        ["Global Mayors Action Agenda on Climate and Migration"],
        "",
    ),
    (
        "Global Refugee Forum outcome counts city pledges",
        D(2023, 12, 15),
        ["Local leadership statement to the Global Refugee Forum"],
        "",
    ),
    (
        "GFMD Summit conclusions include Mayors Mechanism recommendations",
        D(2024, 1, 25),
        ["Mayors Mechanism recommendations to the GFMD Summit"],
        "",
    ),
]


def _slug(text):
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")[:60]


def seed(*, scale, stdout):
    # ``scale`` is for synthetic volume, generated elsewhere; this adds the curated records.
    users = {u.username: u for u in User.objects.filter(username__in=TEAM + MANAGERS)}
    cities = {c.name: c for c in City.objects.select_related("country")}
    if not users or not cities:
        stdout.write("Engagements: skipped (run the crm and cities demo data first).")
        return
    team = [users[name] for name in TEAM if name in users] or list(users.values())
    today = timezone.localdate()
    created = dict.fromkeys(
        ["events", "participations", "engagements", "ta", "contributions", "outcomes"], 0
    )

    events = _seed_events(today, created)
    _seed_participations(events, cities, team, created)
    _seed_engagements(today, cities, team, created)
    _seed_ta_requests(today, cities, users, team, created)
    _seed_policy(events, cities, created)
    stdout.write(
        "Engagements: {events} events, {participations} participations, {engagements} "
        "engagements, {ta} TA requests, {contributions} contributions, {outcomes} outcomes "
        "added.".format(**created)
    )


def _seed_events(today, created):
    events = {}
    for name, process, start, end, place, deadline, notes in PAST_EVENTS:
        event, new = Event.objects.get_or_create(
            name=name,
            start_date=start,
            defaults={
                "process": process,
                "end_date": end,
                "place": place,
                "registration_deadline": deadline,
                "notes": notes,
                "website": f"https://example.org/events/{_slug(name)}",
            },
        )
        created["events"] += new
        events[name] = event
    for name, process, starts_in, days, place, deadline_in in UPCOMING_EVENTS:
        # Matched by name: the dates move with today's date.
        event = Event.objects.filter(name=name).order_by("-start_date").first()
        if event is None:
            start = today + datetime.timedelta(days=starts_in)
            event = Event.objects.create(
                name=name,
                process=process,
                start_date=start,
                end_date=start + datetime.timedelta(days=days - 1),
                place=place,
                registration_deadline=today + datetime.timedelta(days=deadline_in),
            )
            created["events"] += 1
        events[name] = event
    return events


def _current_mayors(cities):
    terms = MayoralTerm.objects.current().filter(city__in=cities).select_related("mayor")
    return {term.city_id: term.mayor for term in terms}


def _focal_contacts(cities):
    contacts = {}
    for city in cities:
        contacts[city.pk] = city.contacts.order_by("-is_focal_point", "pk").first()
    return contacts


def _seed_participations(events, cities, team, created):
    involved = [cities[row[1]] for row in PARTICIPATIONS if row[1] in cities]
    mayors = _current_mayors(involved)
    contacts = _focal_contacts(involved)
    for index, (event_name, city_name, role, status, with_mayor, outcome) in enumerate(
        PARTICIPATIONS
    ):
        city = cities.get(city_name)
        if city is None:
            continue
        _, new = Participation.objects.get_or_create(
            event=events[event_name],
            city=city,
            role=role,
            defaults={
                "status": status,
                "mayor": mayors.get(city.pk) if with_mayor else None,
                "contact": contacts.get(city.pk),
                "owner": team[index % len(team)],
                "outcome": outcome,
            },
        )
        created["participations"] += new


def _seed_engagements(today, cities, team, created):
    names = sorted(cities)
    contacts = _focal_contacts(cities.values())
    offsets = RECENT_OFFSETS + [
        30 + round(i * 690 / (ENGAGEMENT_COUNT - len(RECENT_OFFSETS) - 1))
        for i in range(ENGAGEMENT_COUNT - len(RECENT_OFFSETS))
    ]
    for i, days_ago in enumerate(offsets):
        kind, topic, outcome = ENGAGEMENT_TOPICS[i % len(ENGAGEMENT_TOPICS)]
        city = cities[names[(i * 7) % len(names)]]
        summary = f"{topic} ({city.name})"
        if Engagement.objects.filter(summary=summary).exists():
            continue
        date = today - datetime.timedelta(days=days_ago)
        follow_up, done = _follow_up(i, date, today)
        engagement = Engagement.objects.create(
            date=date,
            kind=kind,
            owner=team[i % len(team)],
            summary=summary,
            outcome=outcome,
            follow_up_date=follow_up,
            follow_up_done=done,
        )
        # Global dialogues and workshops bring several cities together.
        group = [city]
        if kind in ("dialogue", "workshop"):
            group += [cities[names[(i * 7 + k) % len(names)]] for k in (3, 11)]
        engagement.cities.set(group)
        if contacts.get(city.pk):
            engagement.contacts.set([contacts[city.pk]])
        created["engagements"] += 1


def _follow_up(i, date, today):
    """(follow-up date, done) so that each team member has some due this week, some overdue,
    some later and some already done."""
    if i < 3:
        return today + datetime.timedelta(days=2 * i + 1), False  # due this week
    if i < 7:
        return date + datetime.timedelta(days=4), False  # overdue by a few days
    if i < 12:
        return date + datetime.timedelta(days=40), False  # later
    if i % 5 == 0:
        return date + datetime.timedelta(days=14), True
    return None, False


def _seed_ta_requests(today, cities, users, team, created):
    contacts = _focal_contacts([cities[row[1]] for row in TA_REQUESTS if row[1] in cities])
    manager = users.get("priya") or team[0]
    for topic, city_name, priority, status, received_ago, due_in, owner in TA_REQUESTS:
        city = cities.get(city_name)
        if city is None or TARequest.objects.filter(city=city, topic=topic).exists():
            continue
        received = today - datetime.timedelta(days=received_ago)
        ta = TARequest.objects.create(
            city=city,
            requested_by=contacts.get(city.pk),
            topic=topic,
            description=f"Request from {city.name}: {topic.lower()}.",
            priority=priority,
            owner=users.get(owner, team[0]),
            received_on=received,
            due_date=today + datetime.timedelta(days=due_in) if due_in is not None else None,
        )
        steps = WORKFLOW[status]
        for n, step in enumerate(steps, start=1):
            by = manager if step in ("accepted", "declined") else ta.owner
            transition = ta_request_transition(
                ta_request=ta, to_status=step, by=by, comment=STEP_COMMENTS[step]
            )
            # Spread the steps between receipt and today, as they happened.
            day = received + datetime.timedelta(days=received_ago * n // (len(steps) + 1))
            at = datetime.datetime.combine(day, datetime.time(10, 0), tzinfo=datetime.UTC)
            TATransition.objects.filter(pk=transition.pk).update(at=at)
            if step == "delivered":
                TARequest.objects.filter(pk=ta.pk).update(delivered_on=day)
        created["ta"] += 1


def _seed_policy(events, cities, created):
    contributions = {}
    for title, kind, date, process, event_name, signers, summary in CONTRIBUTIONS:
        contribution, new = PolicyContribution.objects.get_or_create(
            title=title,
            defaults={
                "kind": kind,
                "date": date,
                "process": process,
                "event": events.get(event_name),
                "summary": summary,
                "link": f"https://example.org/statements/{_slug(title)}",
            },
        )
        if new:
            contribution.cities.set([cities[name] for name in signers if name in cities])
            created["contributions"] += 1
        contributions[title] = contribution
    for title, date, related, description in OUTCOMES:
        outcome, new = PolicyOutcome.objects.get_or_create(
            title=title,
            defaults={
                "date": date,
                "description": description,
                "evidence_url": f"https://example.org/evidence/{_slug(title)}",
            },
        )
        if new:
            outcome.contributions.set([contributions[t] for t in related])
            created["outcomes"] += 1
