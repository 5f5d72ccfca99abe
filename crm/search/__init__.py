"""Global search (a hub): one box over cities, contacts and mayors."""
