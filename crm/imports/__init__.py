"""Spreadsheet import and export (the hub under /data/, list-page exports, the commands).

- ``files``: reading CSV/XLSX as people have them (encoding, delimiter, first sheet).
- ``registry``: the importable entities and their resources. What each app's ``resources.py``
  builds on lives in the base: ``crm.core.resources`` (``CrmResource``) and
  ``crm.core.import_widgets`` (forgiving cell readers, bulk reference resolution).
- ``engine``: preview and all-or-nothing commit; ``bulk``: fast writes that keep history.
- ``batches``: the ImportBatch lifecycle (upload, confirm, rollback); ``exporting``: streamed
  CSV/XLSX with formula neutralisation; ``views`` and ``urls``: the pages.
"""
