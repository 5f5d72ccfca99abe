"""Demo records for the cities app: the real cities MMC works with, their mayors, the Leadership
Board and a few contacts each. Deterministic and idempotent: running it again adds nothing, and
never overwrites a record someone has since edited.

Mayors are real office holders where the name is public and certain; the contacts are invented
(addresses use example.org domains) and the figures are rounded demo figures."""

from datetime import date, timedelta

from django.utils import timezone

from crm.core.text import fold

from .models import BoardSeat, City, CityNetwork, Contact, Country, Mayor, MayoralTerm, Tag

SOURCE = "demo figures"

# Network short names, as seeded by migration 0003.
C40, UCLG, MM, METRO, ICLEI, EURO, SCN, WELCOME, MMC = (
    "C40",
    "UCLG",
    "Mayors Mechanism",
    "Metropolis",
    "ICLEI",
    "Eurocities",
    "Strong Cities",
    "Welcoming Intl",
    "MMC partners",
)

P, E, PR, F = City.Status.PARTNER, City.Status.ENGAGED, City.Status.PROSPECT, City.Status.FORMER

# name, aliases, country code, status, population, migrant population, networks, tags, language
CITIES = [
    ("Freetown", "", "SL", P, 1_200_000, None, [C40, UCLG, MM, MMC], ["climate migration"], "en"),
    (
        "Montréal",
        "Montreal",
        "CA",
        P,
        1_760_000,
        590_000,
        [C40, UCLG, METRO, MM, MMC],
        ["refugees"],
        "fr",
    ),
    (
        "São Paulo",
        "Sao Paulo\nSampa",
        "BR",
        P,
        11_450_000,
        380_000,
        [C40, UCLG, METRO, MM, MMC],
        ["inclusion"],
        "pt",
    ),
    ("Los Angeles", "LA", "US", P, 3_820_000, 1_300_000, [C40, WELCOME, MMC], ["inclusion"], "en"),
    ("Athens", "Athina", "GR", P, 640_000, 95_000, [C40, EURO, UCLG, MMC], ["refugees"], "el"),
    ("Kampala", "", "UG", P, 1_680_000, 160_000, [ICLEI, SCN, UCLG, MM, MMC], ["refugees"], "en"),
    (
        "Zürich",
        "Zurich\nZuerich",
        "CH",
        P,
        421_000,
        137_000,
        [EURO, MMC],
        ["Call to Local Action"],
        "de",
    ),
    ("Bristol", "", "GB", F, 480_000, 75_000, [EURO, WELCOME], ["inclusion"], "en"),
    ("Milan", "Milano", "IT", P, 1_370_000, 280_000, [C40, EURO, MMC], ["GCM champion"], "it"),
    (
        "Amman",
        "Greater Amman",
        "JO",
        P,
        4_000_000,
        1_000_000,
        [C40, SCN, MM, MMC],
        ["refugees"],
        "ar",
    ),
    ("Kuala Lumpur", "KL", "MY", E, 1_980_000, 300_000, [C40, METRO], [], "ms"),
    (
        "Bogotá",
        "Bogota\nBogotá D.C.",
        "CO",
        P,
        7_900_000,
        600_000,
        [C40, METRO, ICLEI, MMC],
        ["refugees", "GCM champion"],
        "es",
    ),
    ("Cali", "Santiago de Cali", "CO", E, 2_280_000, 110_000, [UCLG], ["refugees"], "es"),
    (
        "Ciudad Juárez",
        "Juarez\nCd. Juárez",
        "MX",
        P,
        1_510_000,
        40_000,
        [SCN, MMC],
        ["returnees"],
        "es",
    ),
    ("Denver", "", "US", P, 716_000, 110_000, [WELCOME, MMC], ["newcomers"], "en"),
    (
        "Mexico City",
        "Ciudad de México\nCDMX",
        "MX",
        P,
        9_200_000,
        120_000,
        [C40, METRO, UCLG, MMC],
        ["Call to Local Action"],
        "es",
    ),
    (
        "Quito",
        "San Francisco de Quito",
        "EC",
        P,
        2_800_000,
        200_000,
        [C40, ICLEI, UCLG, MMC],
        ["refugees"],
        "es",
    ),
    ("Santiago", "Santiago de Chile", "CL", E, 500_000, 150_000, [C40, UCLG], ["inclusion"], "es"),
    ("Manta", "", "EC", PR, 270_000, 15_000, [], [], "es"),
    ("Barranquilla", "", "CO", P, 1_330_000, 150_000, [UCLG, MMC], ["refugees"], "es"),
    ("Beirut", "Bayrut", "LB", E, 2_400_000, 800_000, [SCN, UCLG], ["refugees"], "ar"),
    ("Lima", "Lima Metropolitana", "PE", PR, 10_000_000, 900_000, [C40, METRO], ["refugees"], "es"),
    ("Medellín", "Medellin", "CO", PR, 2_600_000, 100_000, [UCLG], [], "es"),
]

NOTES = {
    "Bristol": "Bristol replaced its directly elected mayor with a committee system in May 2024, "
    "so there is no current mayor; the council leader is the political contact.",
    "Kampala": "Capital city authority; the Lord Mayor leads the elected council.",
}

# city name, mayor, term start, term end (None: in office)
TERMS = [
    ("Freetown", "Sam Franklyn Gibson", date(2012, 5, 1), date(2018, 5, 3)),
    ("Freetown", "Yvonne Aki-Sawyerr", date(2018, 5, 4), None),
    ("Montréal", "Valérie Plante", date(2017, 11, 16), date(2025, 11, 12)),
    ("Montréal", "Soraya Martinez Ferrada", date(2025, 11, 13), None),
    ("São Paulo", "Bruno Covas", date(2018, 4, 6), date(2021, 5, 16)),
    ("São Paulo", "Ricardo Nunes", date(2021, 5, 16), None),
    ("Los Angeles", "Eric Garcetti", date(2013, 7, 1), date(2022, 12, 11)),
    ("Los Angeles", "Karen Bass", date(2022, 12, 12), None),
    ("Athens", "Kostas Bakoyannis", date(2019, 9, 1), date(2023, 12, 31)),
    ("Athens", "Haris Doukas", date(2024, 1, 1), None),
    ("Kampala", "Erias Lukwago", date(2011, 3, 1), None),
    ("Zürich", "Corine Mauch", date(2009, 5, 6), None),
    ("Bristol", "Marvin Rees", date(2016, 5, 9), date(2024, 5, 6)),
    ("Milan", "Giuseppe Sala", date(2016, 6, 21), None),
    ("Amman", "Yousef Shawarbeh", date(2017, 8, 15), None),
    ("Kuala Lumpur", "Nadia Rahim", date(2024, 10, 1), None),
    ("Bogotá", "Claudia López", date(2020, 1, 1), date(2023, 12, 31)),
    ("Bogotá", "Carlos Fernando Galán", date(2024, 1, 1), None),
    ("Cali", "Alejandro Eder", date(2024, 1, 1), None),
    ("Ciudad Juárez", "Cruz Pérez Cuéllar", date(2021, 9, 10), None),
    ("Denver", "Michael Hancock", date(2011, 7, 18), date(2023, 7, 16)),
    ("Denver", "Mike Johnston", date(2023, 7, 17), None),
    ("Mexico City", "Claudia Sheinbaum", date(2018, 12, 5), date(2023, 6, 16)),
    ("Mexico City", "Clara Brugada", date(2024, 10, 5), None),
    ("Quito", "Pabel Muñoz", date(2023, 5, 14), None),
    ("Santiago", "Irací Hassler", date(2021, 6, 28), date(2024, 12, 5)),
    ("Santiago", "Mario Desbordes", date(2024, 12, 6), None),
    ("Manta", "Lucía Zambrano", date(2023, 5, 15), None),
    ("Barranquilla", "Alejandro Char", date(2024, 1, 1), None),
    ("Beirut", "Karim Haddad", date(2025, 6, 1), None),
    ("Lima", "Rafael López Aliaga", date(2023, 1, 1), date(2025, 10, 6)),
    ("Lima", "Renzo Reggiardo", date(2025, 10, 7), None),
    ("Medellín", "Federico Gutiérrez", date(2024, 1, 1), None),
]

# mayor, role, days from today to the seat's end (negative: an earlier seat), renewals before it
BOARD = [
    ("Yvonne Aki-Sawyerr", BoardSeat.Role.CO_CHAIR, 45, 1),
    ("Karen Bass", BoardSeat.Role.CO_CHAIR, 410, 0),
    ("Giuseppe Sala", BoardSeat.Role.MEMBER, 20, 1),
    ("Erias Lukwago", BoardSeat.Role.MEMBER, 80, 0),
    ("Ricardo Nunes", BoardSeat.Role.MEMBER, 300, 0),
    ("Haris Doukas", BoardSeat.Role.MEMBER, 600, 0),
    ("Corine Mauch", BoardSeat.Role.MEMBER, 200, 1),
    ("Yousef Shawarbeh", BoardSeat.Role.MEMBER, 500, 0),
    ("Carlos Fernando Galán", BoardSeat.Role.MEMBER, 690, 0),
    ("Mike Johnston", BoardSeat.Role.MEMBER, 150, 0),
    ("Valérie Plante", BoardSeat.Role.CO_CHAIR, -380, 1),
    ("Marvin Rees", BoardSeat.Role.MEMBER, -580, 0),
]

DIAL_CODES = {
    "SL": "232",
    "CA": "1",
    "BR": "55",
    "US": "1",
    "GR": "30",
    "UG": "256",
    "CH": "41",
    "GB": "44",
    "IT": "39",
    "JO": "962",
    "MY": "60",
    "CO": "57",
    "MX": "52",
    "EC": "593",
    "CL": "56",
    "LB": "961",
    "PE": "51",
}

TITLES = [
    "Director of International Relations",
    "Migration and Refugee Policy Advisor",
    "Chief of Staff to the Mayor",
    "Head of Social Inclusion",
    "Chief Resilience Officer",
    "Communications Lead",
]

# Invented names per language, so contacts read naturally for each city.
NAMES = {
    "en": (
        ["Aminata", "James", "Grace", "Samuel", "Ruth", "Daniel"],
        ["Kamara", "Okello", "Turner", "Nakato", "Reid", "Walker"],
    ),
    "fr": (
        ["Élodie", "Mathieu", "Camille", "Karim", "Sophie", "Louis"],
        ["Tremblay", "Gagnon", "Bélanger", "Haddad", "Roy", "Côté"],
    ),
    "pt": (
        ["João", "Mariana", "Luíza", "Tiago", "Beatriz", "Rafael"],
        ["Silva", "Araújo", "Conceição", "Ribeiro", "Gonçalves", "Lima"],
    ),
    "el": (
        ["Eleni", "Nikos", "Maria", "Giorgos", "Katerina", "Dimitris"],
        ["Papadopoulou", "Georgiou", "Nikolaou", "Vlachos", "Ioannou", "Pappas"],
    ),
    "de": (
        ["Lena", "Jonas", "Sarah", "Lukas", "Anna", "Matthias"],
        ["Müller", "Schneider", "Brunner", "Keller", "Weber", "Hofmann"],
    ),
    "it": (
        ["Giulia", "Marco", "Francesca", "Luca", "Chiara", "Davide"],
        ["Rossi", "Bianchi", "Ferrari", "Colombo", "Ricci", "Romano"],
    ),
    "ar": (
        ["Rania", "Omar", "Layla", "Khaled", "Nour", "Tariq"],
        ["Haddad", "Khoury", "Nasser", "Saleh", "Mansour", "Aziz"],
    ),
    "ms": (
        ["Siti", "Ahmad", "Nurul", "Hafiz", "Aisyah", "Farid"],
        ["Abdullah", "Ismail", "Hassan", "Yusof", "Ibrahim", "Osman"],
    ),
    "es": (
        [
            "María José",
            "Andrés",
            "Valentina",
            "Sebastián",
            "Camila",
            "Julián",
            "Lucía",
            "Diego",
            "Paula",
            "Mateo",
            "Ximena",
            "Tomás",
        ],
        [
            "García",
            "Rodríguez",
            "Martínez",
            "Peña",
            "Muñoz",
            "Jiménez",
            "Castaño",
            "Ortiz",
            "Benítez",
            "Salazar",
            "Quintero",
            "Ibáñez",
        ],
    ),
}


def _email_slug(text):
    return "".join(ch for ch in fold(text).replace(" ", ".") if ch.isalnum() or ch == ".")


def _add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def seed(*, scale, stdout):
    # ``scale`` is for synthetic volume, generated elsewhere; this module adds the named cities.
    networks = {n.short_name: n for n in CityNetwork.objects.all()}
    countries = {c.code: c for c in Country.objects.all()}
    created = {"cities": 0, "mayors": 0, "seats": 0, "contacts": 0}

    cities = {}
    names_used = dict.fromkeys(NAMES, 0)  # per language, so no two demo contacts share a name
    for index, (name, aliases, code, status, pop, migrants, nets, tags, lang) in enumerate(CITIES):
        first_name_number = names_used[lang]
        names_used[lang] += 3 + index % 4
        city = City.objects.filter(country=countries[code], name_key=fold(name)).first()
        if city is None:
            city = City.objects.create(
                name=name,
                aliases=aliases,
                country=countries[code],
                status=status,
                population=pop,
                population_year=2023,
                migrant_population=migrants,
                migrant_population_year=2023 if migrants else None,
                figures_source=SOURCE,
                notes=NOTES.get(name, ""),
            )
            city.networks.set([networks[n] for n in nets if n in networks])
            city.tags.set([Tag.objects.get_or_create(name=t)[0] for t in tags])
            created["cities"] += 1
            _seed_contacts(city, index, lang, first_name_number, created)
        cities[name] = city

    mayors = {}
    for city_name, mayor_name, start, end in TERMS:
        mayor = Mayor.objects.filter(name_key=fold(mayor_name)).first()
        if mayor is None:
            mayor = Mayor.objects.create(full_name=mayor_name)
            created["mayors"] += 1
        mayors[mayor_name] = mayor
        city = cities[city_name]
        if MayoralTerm.objects.filter(mayor=mayor, city=city, start_date=start).exists():
            continue
        if end is None and MayoralTerm.objects.current().filter(city=city).exists():
            continue  # someone recorded a newer mayor since
        MayoralTerm.objects.create(mayor=mayor, city=city, start_date=start, end_date=end)

    today = timezone.localdate()
    for mayor_name, role, ends_in, renewals in BOARD:
        mayor = mayors[mayor_name]
        if mayor.board_seats.exists():
            continue
        end = today + timedelta(days=ends_in)
        for step in range(renewals, -1, -1):
            seat_end = _add_years(end, -2 * step)
            BoardSeat.objects.create(
                mayor=mayor,
                # Earlier seats were as members; co-chairs were chosen later.
                role=role if step == 0 else BoardSeat.Role.MEMBER,
                start_date=_add_years(seat_end, -2) + timedelta(days=1),
                end_date=seat_end,
            )
            created["seats"] += 1
    stdout.write(
        "Cities: {cities} cities, {mayors} mayors, {seats} board seats, "
        "{contacts} contacts added.".format(**created)
    )


def _seed_contacts(city, index, lang, name_number, created):
    firsts, lasts = NAMES[lang]
    languages = lang if lang == "en" else f"{lang}, en"
    domain = _email_slug(city.name).replace(".", "") + ".example.org"
    for n in range(3 + index % 4):
        # Walks every (first, last) pair once before repeating one.
        k = name_number + n
        first = firsts[k % len(firsts)]
        last = lasts[(k + k // len(firsts)) % len(lasts)]
        email = f"{_email_slug(first)}.{_email_slug(last)}@{domain}"
        # Every fifth contact has no email (a phone-only partner); one in seven unsubscribed.
        number = index * 6 + n
        has_email = number % 5 != 4
        if has_email and Contact.objects.filter(email=email).exists():
            continue
        Contact.objects.create(
            first_name=first,
            last_name=last,
            title=TITLES[(index + n) % len(TITLES)],
            city=city,
            email=email if has_email else "",
            phone=f"+{DIAL_CODES[city.country.code]} {200 + index} {5550100 + n}",
            languages=languages,
            is_focal_point=n == 0,
            consent_to_outreach=number % 3 != 2,
            unsubscribed_at=timezone.now() if number % 7 == 6 else None,
        )
        created["contacts"] += 1
