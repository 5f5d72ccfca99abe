"""Demo records for the engagements app (filled in as the app's pages land)."""


def seed(*, scale, stdout):
    pass
