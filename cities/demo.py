"""Demo records for the cities app (filled in as the app's pages land)."""


def seed(*, scale, stdout):
    pass
