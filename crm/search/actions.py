"""What the command palette can do besides finding records: create something, go somewhere."""

from dataclasses import dataclass

from django.urls import reverse

from crm.core.navigation import MENU

from .matching import judge


@dataclass(frozen=True)
class Action:
    label: str
    url_name: str
    permission: str | None
    #: Other words people type for it ("add", "new").
    keywords: tuple = ()

    @property
    def url(self):
        return reverse(self.url_name)


CREATE_ACTIONS = [
    Action(
        "Log engagement",
        "engagements:engagement_create",
        "engagements.add_engagement",
        ("new", "add", "meeting", "call", "record"),
    ),
    Action(
        "New TA request",
        "engagements:ta_create",
        "engagements.add_tarequest",
        ("add", "technical assistance", "create"),
    ),
    Action("New city", "cities:city_create", "cities.add_city", ("add", "create")),
    Action(
        "New contact", "cities:contact_create", "cities.add_contact", ("add", "create", "person")
    ),
    Action("New event", "engagements:event_create", "engagements.add_event", ("add", "create")),
    Action("New pledge", "pledges:pledge_create", "pledges.add_pledge", ("add", "create")),
    Action(
        "New campaign",
        "outreach:campaign_create",
        "outreach.add_campaign",
        ("add", "create", "email"),
    ),
]


# Menu labels that need their heading to make sense on their own.
_MENU_LABELS = {"Log": "Engagement log", "By framework": "Pledges by framework"}


def _go_to_actions():
    for heading, entries in MENU:
        for label, url_name, permission in entries:
            title = _MENU_LABELS.get(label, label)
            yield Action(f"Go to {title}", url_name, permission, (heading, "open", "show"))


ACTIONS = CREATE_ACTIONS + list(_go_to_actions())
#: Shown before anything is typed.
DEFAULT_ACTIONS = ("Log engagement", "New TA request", "Go to Dashboard", "Go to My work")


def actions_for(user, query):
    allowed = [a for a in ACTIONS if a.permission is None or user.has_perm(a.permission)]
    if not query.words:
        by_label = {a.label: a for a in allowed}
        return [by_label[label] for label in DEFAULT_ACTIONS if label in by_label]
    scored = []
    for order, action in enumerate(allowed):
        label_words = action.label.removeprefix("Go to ").removeprefix("New ")
        match = judge(query, title=label_words, names=[action.label, *action.keywords])
        if match:
            scored.append((-match.tier, -match.closeness, order, action))
    return [action for *_, action in sorted(scored, key=lambda s: s[:3])]
