"""Demo records for the pledges app (filled in as the app's pages land)."""


def seed(*, scale, stdout):
    pass
