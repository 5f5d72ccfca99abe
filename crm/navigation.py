"""The main menu: (label, url name, permission or None) per entry, grouped under headings.

An app adds its pages here when they exist; a test checks every entry resolves.
"""

MENU = [
    ("Home", [("Home", "home", None)]),
]
