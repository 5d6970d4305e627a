"""The product's Cube API against real Cube 1.7.43 (tools/cube-oracle) on the same lake, model and pinned clock.

Every generated query (cases.py) is answered by both; `data` (as a multiset where the order does not determine the
rows), `annotation`, `total` and errors (status and message) must be the same, except for the known differences
(known_differences.py), which are checked too. A failure shows the query, both answers and what differs."""

import json
from collections import Counter

import pytest

from local.cube_model import EXTENSION_KEYS, cube_model_files
from tests.cube_parity.cases import Case
from tests.cube_parity.conftest import CASES
from tests.cube_parity.known_differences import KNOWN_DIFFERENCES, Verdict


def _report(verdict: Verdict) -> str:
    case = verdict.case
    lines = [
        f'{case.id}: the product answers otherwise than Cube 1.7',
        f'  query: {json.dumps(case.query, ensure_ascii=False)}',
        f'  now:   {case.now}',
        f'  Cube:    {verdict.cube.brief()}',
        f'  product: {verdict.product.brief()}',
        f'  known differences applied: {verdict.applied or "none"}',
        '  differences:',
    ]
    lines += [f'    - {problem}' for problem in verdict.problems]
    return '\n'.join(lines)


@pytest.mark.parametrize('case', CASES, ids=[case.id for case in CASES])
def test_product_answers_like_cube(case: Case, verdicts: dict[str, Verdict]) -> None:
    verdict = verdicts[case.id]
    assert not verdict.problems, _report(verdict)


def test_known_differences_are_all_still_seen(verdicts: dict[str, Verdict]) -> None:
    """Every known difference covers some query; every pending one still changes some answer (one no query shows any
    more has been fixed, and its entry must go). A deliberate one may cover queries a pending one answers first
    (Cube's 500 for `measures` not an array is `cube-500-message` today, `cube-500-client-input` once fixed)."""
    ids = [entry.id for entry in KNOWN_DIFFERENCES]
    assert len(ids) == len(set(ids)), 'known difference ids must be unique'
    covered = Counter(entry for verdict in verdicts.values() for entry in verdict.covered)
    changed = Counter(entry for verdict in verdicts.values() for entry in verdict.changed)
    uncovered = [entry.id for entry in KNOWN_DIFFERENCES if not covered[entry.id]]
    assert not uncovered, f'known differences no generated query is about: {uncovered}'
    gone = [entry.id for entry in KNOWN_DIFFERENCES if entry.kind == 'pending' and not changed[entry.id]]
    assert not gone, f'pending differences no query shows any more (fixed: remove them): {gone}'


def test_every_known_difference_has_a_reason_and_kind() -> None:
    for entry in KNOWN_DIFFERENCES:
        assert entry.kind in ('deliberate', 'pending') and len(entry.reason) > 40, entry.id


def test_cube_model_copy_has_no_product_extensions() -> None:
    for name, text in cube_model_files().items():
        for key in EXTENSION_KEYS:
            assert key not in text, f'{name} still has the product extension {key}'


def test_the_generated_queries_cover_the_grammar() -> None:
    """The generator's reach, so a change to it cannot quietly drop a part of the grammar."""
    text = json.dumps([case.query for case in CASES])
    for needle in (
        *(
            f'"{op}"'
            for op in ('equals', 'notEquals', 'contains', 'notContains', 'startsWith', 'endsWith', 'gt', 'gte')
        ),
        *(f'"{op}"' for op in ('lt', 'lte', 'set', 'notSet', 'inDateRange', 'notInDateRange', 'beforeDate')),
        *(f'"{op}"' for op in ('beforeOrOnDate', 'afterDate', 'afterOrOnDate', 'measureFilter')),
        '"or"',
        '"and"',
        '"segments"',
        '"ungrouped"',
        '"compareDateRange"',
        '"compact"',
        '"columnar"',
        '"total"',
        '"offset"',
        '"Last 7 days"',
        '"europe/berlin"',
    ):
        assert needle in text, needle
    assert any(isinstance(case.query, list) for case in CASES), 'blending'
    assert len({case.now for case in CASES}) >= 5
    assert len(CASES) >= 600
