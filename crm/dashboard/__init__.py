"""The manager dashboard and the city scorecard (a hub: it reads cities, engagements, pledges).

Every figure is a count the lists can reproduce: each carries the URL of the list it counts,
built with the list filters' parameter names (CONTRIBUTING.md), and tests check that the list's
count equals the figure. Counting rules therefore mirror the list filters exactly:

- a many-to-many to City (an engagement's cities, a contribution's signers) is filtered with a
  ``pk__in`` subquery on the through table, so a record with two matching cities counts once;
- region and network always go through the city;
- "overdue" means due before today and still open, as in the lists.

The dashboard runs a fixed number of queries whatever the data size: aggregates with
``filter=Q(...)`` count the current and the previous period in one pass, group-bys feed the charts.

- ``scope``: Period, Scope, ``list_url`` and the scoped querysets every figure counts over;
- ``figures``: the impact figures; ``charts``: the charts; ``lists``: the lists beside them;
- ``summary``: ``dashboard()``, all of it at once; ``cache``: the same, reused while data is
  unchanged; ``workbook``: as XLSX; ``forms``: the period / scope form; ``views``, ``urls``;
- ``scorecard``: one city's scorecard (the city page's scorecard section).
"""
