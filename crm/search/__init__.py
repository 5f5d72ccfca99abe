"""Search (a hub): one box over every kind of record, and the command palette."""
