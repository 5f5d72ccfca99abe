"""The base every app stands on: generic views, widgets, text folding, history, roles, the menu,
the import/export resource base. It imports no domain app (cities, engagements, pledges,
outreach) and no hub (dashboard, imports, search, demo); ``crm.models`` belongs to it too."""
