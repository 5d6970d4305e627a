"""The seeded lake both Cube (regenerate.py) and the product (test_joins.py) answer from: two projects, so the
product's answers for project 7 also show that no scan of a joined cube reads project 8."""

from datetime import UTC, datetime
from pathlib import Path

from tests.differential.lake import generate_events, write_lake

SEED = 20240515
PROJECT = '7'
NOW = datetime(2024, 5, 15, 13, 3, 7, tzinfo=UTC)


def write_test_lake(root: Path) -> None:
    write_lake(root, generate_events(SEED, sessions_per_project=150))
