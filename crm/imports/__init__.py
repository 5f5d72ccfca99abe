"""Spreadsheet import and export (the hub under /data/, list-page exports, the commands).

- ``files``: reading CSV/XLSX as people have them (encoding, delimiter, first sheet).
- ``widgets``: forgiving cell readers and bulk reference resolution ("Sao Paulo, BR").
- ``base``: ``CrmResource`` (each app's ``resources.py`` extends it) and the entity registry.
- ``engine``: preview and all-or-nothing commit; ``bulk``: fast writes that keep history.
- ``batches``: the ImportBatch lifecycle (upload, confirm, rollback); ``exporting``: streamed
  CSV/XLSX with formula neutralisation; ``views``: the pages.
"""
