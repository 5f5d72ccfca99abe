"""The frameworks pledges serve: the Call to Local Action, the 23 objectives of the Global
Compact for Migration (official titles, with a short label for lists) and the Global Compact on
Refugees' areas in need of support plus its durable solutions.

Seeded by migration 0003 and again after every ``migrate`` (and every test-database flush), so
the official list is always complete: only what is missing is added, and a framework that an
admin retitled or that pledges use is never changed or removed. The functions take the model
as an argument so the migration can pass its historical model.
"""

CALL_TO_LOCAL_ACTION = [
    ("Call to Local Action for Migrants and Refugees", "Call to Local Action"),
]

# (number, official title, short label)
GCM_OBJECTIVES = [
    (
        1,
        "Collect and utilize accurate and disaggregated data as a basis for evidence-based "
        "policies",
        "Data",
    ),
    (
        2,
        "Minimize the adverse drivers and structural factors that compel people to leave their "
        "country of origin",
        "Adverse drivers",
    ),
    (3, "Provide accurate and timely information at all stages of migration", "Information"),
    (
        4,
        "Ensure that all migrants have proof of legal identity and adequate documentation",
        "Legal identity and documentation",
    ),
    (
        5,
        "Enhance availability and flexibility of pathways for regular migration",
        "Regular pathways",
    ),
    (
        6,
        "Facilitate fair and ethical recruitment and safeguard conditions that ensure decent work",
        "Fair recruitment and decent work",
    ),
    (7, "Address and reduce vulnerabilities in migration", "Vulnerabilities"),
    (
        8,
        "Save lives and establish coordinated international efforts on missing migrants",
        "Saving lives and missing migrants",
    ),
    (9, "Strengthen the transnational response to smuggling of migrants", "Smuggling"),
    (
        10,
        "Prevent, combat and eradicate trafficking in persons in the context of international "
        "migration",
        "Trafficking in persons",
    ),
    (11, "Manage borders in an integrated, secure and coordinated manner", "Border management"),
    (
        12,
        "Strengthen certainty and predictability in migration procedures for appropriate "
        "screening, assessment and referral",
        "Migration procedures",
    ),
    (
        13,
        "Use migration detention only as a measure of last resort and work towards alternatives",
        "Alternatives to detention",
    ),
    (
        14,
        "Enhance consular protection, assistance and cooperation throughout the migration cycle",
        "Consular protection",
    ),
    (15, "Provide access to basic services for migrants", "Access to basic services"),
    (
        16,
        "Empower migrants and societies to realize full inclusion and social cohesion",
        "Inclusion and social cohesion",
    ),
    (
        17,
        "Eliminate all forms of discrimination and promote evidence-based public discourse to "
        "shape perceptions of migration",
        "Non-discrimination and public discourse",
    ),
    (
        18,
        "Invest in skills development and facilitate mutual recognition of skills, "
        "qualifications and competences",
        "Skills development and recognition",
    ),
    (
        19,
        "Create conditions for migrants and diasporas to fully contribute to sustainable "
        "development in all countries",
        "Migrants' and diasporas' contributions",
    ),
    (
        20,
        "Promote faster, safer and cheaper transfer of remittances and foster financial "
        "inclusion of migrants",
        "Remittances and financial inclusion",
    ),
    (
        21,
        "Cooperate in facilitating safe and dignified return and readmission, as well as "
        "sustainable reintegration",
        "Return and reintegration",
    ),
    (
        22,
        "Establish mechanisms for the portability of social security entitlements and earned "
        "benefits",
        "Portability of social security",
    ),
    (
        23,
        "Strengthen international cooperation and global partnerships for safe, orderly and "
        "regular migration",
        "International cooperation",
    ),
]

# (number for ordering, title): the GCR's areas in need of support (programme of action,
# part B) and its durable solutions.
GCR_AREAS = [
    (1, "Reception and admission"),
    (2, "Education"),
    (3, "Jobs and livelihoods"),
    (4, "Health"),
    (5, "Women and girls"),
    (6, "Children, adolescents and youth"),
    (7, "Accommodation, energy and natural resource management"),
    (8, "Food security and nutrition"),
    (9, "Civil registries"),
    (10, "Statelessness"),
    (11, "Fostering good relations and peaceful coexistence with host communities"),
    (12, "Durable solutions: voluntary repatriation"),
    (13, "Durable solutions: resettlement"),
    (14, "Durable solutions: complementary pathways for admission"),
    (15, "Durable solutions: local integration"),
]


def _rows():
    for title, short in CALL_TO_LOCAL_ACTION:
        yield "call_to_local_action", None, title, short
    for number, title, short in GCM_OBJECTIVES:
        yield "gcm_objective", number, title, short
    for number, title in GCR_AREAS:
        yield "gcr_area", number, title, ""


def ensure_frameworks(Framework, using="default"):
    """Add the official frameworks that are missing, in two queries when none is."""
    existing = Framework.objects.using(using).values_list("kind", "number", "title")
    titles = {(kind, title) for kind, _number, title in existing}
    # GCM objectives are matched by number too, so a retitled objective is not added again.
    objectives = {number for kind, number, _title in existing if kind == "gcm_objective"}
    missing = [
        Framework(kind=kind, number=number, title=title, short_title=short)
        for kind, number, title, short in _rows()
        if (kind, title) not in titles and not (kind == "gcm_objective" and number in objectives)
    ]
    Framework.objects.using(using).bulk_create(missing)


def remove_unused_frameworks(Framework):
    """Remove the official frameworks no pledge uses (a rollback never drops a pledge's links)."""
    for kind, _number, title, _short in _rows():
        Framework.objects.filter(kind=kind, title=title, pledges__isnull=True).delete()


def ensure_frameworks_after_migrate(sender, using="default", **kwargs):
    from django.db import connections

    from .models import Framework

    # Not when pledges was just migrated back to before its tables existed.
    if Framework._meta.db_table in connections[using].introspection.table_names():
        ensure_frameworks(Framework, using=using)
