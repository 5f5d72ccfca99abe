"""Demo and synthetic data (a hub): the demo team, ``seed_demo``'s order of every app's
``demo.seed``, and synthetic volume for benchmarks."""
