"""Everything the dashboard page shows, computed in a fixed number of queries."""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from .charts import engagements_by_month, engagements_by_region, pledges_by_framework, ta_pipeline
from .figures import impact_figures
from .lists import board_seats_ending, engaged_partner_cities, overdue_by_owner, upcoming_events
from .scope import Period, Scope


@dataclass
class Dashboard:
    period: Period
    previous: Period
    scope: Scope
    blocks: list
    by_month: dict
    by_region: list
    by_framework: dict
    pipeline: list
    engaged_cities: dict
    overdue: list
    board_seats: list
    events: list
    computed_at: datetime.datetime = field(default_factory=timezone.now)
    cache_key: str = ""  # set when the figures come from (or went to) the cache

    @property
    def figures(self):
        return {figure.key: figure for block in self.blocks for figure in block.figures}

    @property
    def charts(self):
        """The four charts as Chart.js data (passed to the page with json_script). ``links``
        holds, per dataset and bar, the list a click opens."""
        statuses = self.by_framework["statuses"]
        framework_rows = self.by_framework["rows"]
        return {
            "month": {
                "labels": self.by_month["months"],
                "datasets": [
                    {"label": s["label"], "data": s["counts"]} for s in self.by_month["series"]
                ],
                "stacked": True,
            },
            "region": {
                "labels": [row["label"] for row in self.by_region],
                "datasets": [
                    {"label": "Engagements", "data": [row["count"] for row in self.by_region]}
                ],
                "links": [[row["url"] for row in self.by_region]],
                "horizontal": True,
            },
            "framework": {
                "labels": [row["label"] for row in framework_rows],
                "datasets": [
                    {"label": label, "data": [row["cells"][i]["count"] for row in framework_rows]}
                    for i, (_, label) in enumerate(statuses)
                ],
                "links": [
                    [row["cells"][i]["url"] for row in framework_rows] for i in range(len(statuses))
                ],
                "stacked": True,
                "horizontal": True,
            },
            "pipeline": {
                "labels": [row["label"] for row in self.pipeline],
                "datasets": [
                    {"label": "TA requests", "data": [row["count"] for row in self.pipeline]}
                ],
                "links": [[row["url"] for row in self.pipeline]],
            },
        }


def dashboard(period, scope, today=None):
    """Everything the dashboard shows, in a fixed number of queries."""
    today = today or timezone.localdate()
    return Dashboard(
        period=period,
        previous=period.previous(),
        scope=scope,
        blocks=impact_figures(period, scope, today),
        by_month=engagements_by_month(period, scope),
        by_region=engagements_by_region(period, scope),
        by_framework=pledges_by_framework(scope),
        pipeline=ta_pipeline(period, scope),
        engaged_cities=engaged_partner_cities(period, scope),
        overdue=overdue_by_owner(scope, today),
        board_seats=board_seats_ending(today),
        events=upcoming_events(scope, today),
    )
