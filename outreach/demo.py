"""Demo records for the outreach app (filled in as the app's pages land)."""


def seed(*, scale, stdout):
    pass
