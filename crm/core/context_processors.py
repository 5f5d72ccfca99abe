from django.urls import reverse

from .navigation import MENU


def navigation(request):
    """What the base layout needs on every page: the menu the user may see, and role flags."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    menu = []
    for heading, entries in MENU:
        links = [
            {"label": label, "url": reverse(url_name), "active": request.path == reverse(url_name)}
            for label, url_name, perm in entries
            if perm is None or user.has_perm(perm)
        ]
        if links:
            menu.append({"heading": heading, "links": links})
    return {
        "main_menu": menu,
        "can_view_dashboard": user.has_perm("crm.view_dashboard"),
        "can_export": user.has_perm("crm.export_records"),
        "can_import": user.has_perm("crm.import_records"),
    }
