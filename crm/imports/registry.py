"""The registry of importable and exportable entities: key → (label, resource path)."""

from django.db import models
from django.utils.module_loading import import_string

# Registry: key → (label, resource path). Paths are imported lazily so crm loads first.
ENTITIES = {
    "cities": ("Cities", "cities.resources.CityResource"),
    "contacts": ("Contacts", "cities.resources.ContactResource"),
    "mayors": ("Mayors and terms", "cities.resources.MayoralTermResource"),
    "board-seats": ("Leadership Board seats", "cities.resources.BoardSeatResource"),
    "engagements": ("Engagements", "engagements.resources.EngagementResource"),
    "ta-requests": ("TA requests", "engagements.resources.TARequestResource"),
    "events": ("Events", "engagements.resources.EventResource"),
    "participations": ("Participations", "engagements.resources.ParticipationResource"),
    "pledges": ("Pledges", "pledges.resources.PledgeResource"),
    "pledge-updates": ("Pledge updates", "pledges.resources.PledgeUpdateResource"),
}
ENTITY_CHOICES = [(key, label) for key, (label, _) in ENTITIES.items()]


class UnknownEntity(KeyError):
    pass


def resource_class(entity):
    try:
        return import_string(ENTITIES[entity][1])
    except KeyError:
        raise UnknownEntity(
            f"Unknown kind of records “{entity}”: choose one of {', '.join(ENTITIES)}."
        ) from None


def get_resource(entity):
    return resource_class(entity)()


def entity_label(entity):
    return ENTITIES[entity][0]


def entity_for_model(model):
    """The entity a list of ``model`` exports as (mayor lists export their terms)."""
    for key in ENTITIES:
        cls = resource_class(key)
        if cls._meta.model is model or model in getattr(cls, "list_models", ()):
            return key
    return None


def is_text_field(model_field):
    return isinstance(model_field, (models.CharField, models.TextField))
