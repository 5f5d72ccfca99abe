"""The computed dashboard, reused from the shared cache while the data is unchanged."""

import logging
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from cities.models import City

from .scope import ContributionCities, EngagementCities, PledgeFrameworks
from .summary import dashboard

logger = logging.getLogger(__name__)

# The figures scan every engagement of two periods; on a few hundred thousand engagements that
# takes about a second. So a computed dashboard is kept in the shared cache (Redis in production)
# and reused until the data changes: any save or delete of a counted record, or a change of a
# many-to-many it counts through, moves the data version, which is part of every key. Bulk writes
# send no signals, so entries also expire after DASHBOARD_CACHE_SECONDS; the page shows when
# its figures were computed and offers a refresh.

VERSION_KEY = "dashboard:data-version"
COUNTED_MODELS = (
    "cities.City",
    "cities.Country",
    "cities.CityNetwork",
    "cities.Mayor",
    "cities.MayoralTerm",
    "cities.BoardSeat",
    "engagements.Engagement",
    "engagements.TARequest",
    "engagements.Event",
    "engagements.Participation",
    "engagements.PolicyContribution",
    "engagements.PolicyOutcome",
    "pledges.Framework",
    "pledges.Pledge",
    "crm.User",
)


def _cache():
    return caches[settings.DASHBOARD_CACHE]


def data_changed(**kwargs):
    # A cache outage must never block a save: the figures then refresh when entries expire.
    try:
        _cache().set(VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:
        logger.warning("Dashboard cache unreachable: figures may lag for a few minutes.")


def connect_invalidation():
    """Called from CrmConfig.ready(): any write to a counted record moves the data version."""
    from django.apps import apps

    for label in COUNTED_MODELS:
        model = apps.get_model(label)
        uid = f"dashboard-{label}"
        post_save.connect(data_changed, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(data_changed, sender=model, dispatch_uid=f"{uid}-delete")
    for through in (
        EngagementCities,
        ContributionCities,
        PledgeFrameworks,
        City.networks.through,
    ):
        m2m_changed.connect(data_changed, sender=through, dispatch_uid=f"dashboard-{through}")


def cached_dashboard(period, scope, today=None, refresh=False):
    """``dashboard()``, reused from the cache while the data is unchanged."""
    today = today or timezone.localdate()
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if not seconds:
        return dashboard(period, scope, today)
    cache = _cache()
    try:
        version = cache.get_or_set(VERSION_KEY, lambda: uuid.uuid4().hex, None)
        network = scope.network.pk if scope.network else ""
        key = f"dashboard:{version}:{today}:{period.start}:{period.end}:{scope.region}:{network}"
        data = None if refresh else cache.get(key)
    except Exception:
        logger.warning("Dashboard cache unreachable: computing the figures directly.")
        return dashboard(period, scope, today)
    if data is None:
        data = dashboard(period, scope, today)
        data.cache_key = key
        try:
            cache.set(key, data, seconds)
        except Exception:
            data.cache_key = ""
    return data
