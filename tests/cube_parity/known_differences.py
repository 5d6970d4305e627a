"""The differences between the product and Cube 1.7 that the parity test knows, and checks.

Each entry has an id, a kind, a reason, a predicate `covers` selecting the queries it is about (from the query, and
Cube's answer to it where the query alone cannot say), and `expect`: given what the product is expected to answer so
far (Cube's answer, as earlier entries changed it) and what it answers, the entry checks that the product answers
*as the entry says* and returns the expected answer with that difference taken into account. Whatever differs
after every entry that covers a query fails the test, with the query and both answers.

- `deliberate`: Cube is wrong there and the product is right. Where it can, the entry checks the product's answer
  against Cube with the bug fixed (`reference.py`: Cube's own SQL, corrected, run over the same data).
- `pending`: a difference issue 15 asks the product to remove; the entry describes what the product answers today.
  When the product is fixed the entry no longer holds (the product now answers like Cube) and the test fails:
  remove the entry then. `test_known_differences_are_all_still_seen` also fails for an entry no query shows any more.

Entries are applied in order. An entry marked `whole` replaces the whole answer (the product answers an error where
Cube answers rows, or the reverse); no later entry applies to that query. The others change one aspect (the
annotation, the rows of one result, the compact members) and compose.
"""

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import available_timezones

from tests.cube_parity.cases import DATE_OPERATORS, Case, iter_leaves
from tests.cube_parity.compare import Answer, differences, rows_of
from tests.cube_parity.reference import (
    CubeSql,
    dst_fixed_params,
    local_times_near_dst,
    projected_rows,
    reference_rows,
    with_like_escape,
)


class NotAsKnown(AssertionError):
    """The product does not answer as a known difference says (it changed, or the difference is gone)."""


@dataclass
class Context:
    case: Case
    cube: Answer  # Cube's answer, untouched
    oracle: dict  # the oracle's output line (Cube's SQL and parameters)
    cube_sql: CubeSql
    explained: set[str] = field(default_factory=set)  # aspects an earlier entry already accounted for


Expect = Callable[[Context, Answer, Answer], Answer]


@dataclass(frozen=True)
class KnownDifference:
    id: str
    kind: Literal['deliberate', 'pending']
    reason: str
    covers: Callable[[Context], bool]
    expect: Expect
    whole: bool = False
    # A covered query may also answer the same on both sides (the data happen not to show the difference); the
    # entry must still change some query's answer in the run.
    may_be_equal: bool = False


# -- reading queries -------------------------------------------------------------------------------------------------


def items(query: Any) -> list[dict]:
    """The query objects of a request: one, or each of a blending array."""
    if isinstance(query, dict):
        return [query]
    if isinstance(query, list):
        return [q for q in query if isinstance(q, dict)]
    return []


def leaves(query: Any) -> Iterator[dict]:
    for item in items(query):
        yield from iter_leaves(item.get('filters'))


def time_dimensions(query: Any) -> Iterator[dict]:
    for item in items(query):
        for td in item.get('timeDimensions') or []:
            if isinstance(td, dict):
                yield td


def member_names(query: Any) -> Iterator[str]:
    for item in items(query):
        for key in ('measures', 'dimensions', 'segments'):
            value = item.get(key)
            if isinstance(value, list):
                yield from (m for m in value if isinstance(m, str))
        for td in time_dimensions(item):
            if isinstance(td.get('dimension'), str):
                yield td['dimension']
        for leaf in iter_leaves(item.get('filters')):
            if isinstance(leaf.get('member'), str):
                yield leaf['member']
        order = item.get('order')
        if isinstance(order, dict):
            yield from order
        elif isinstance(order, list):
            yield from (pair[0] for pair in order if isinstance(pair, list) and pair)


def date_texts(query: Any) -> Iterator[str]:
    """Every date expression of a query: date ranges, compared ranges, and the values of date filters."""

    def flat(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            for v in value:
                yield from flat(v)

    for td in time_dimensions(query):
        yield from flat(td.get('dateRange'))
        yield from flat(td.get('compareDateRange'))
    for leaf in leaves(query):
        if leaf.get('operator') in DATE_OPERATORS:
            yield from flat(leaf.get('values'))


HIDDEN = ('TrackedEvents.eventId', 'Sessions.sessionID', 'ReturningUsers.userId')
_ZONES_BY_LOWER = {name.lower(): name for name in available_timezones()}
_ISO_DATE = re.compile(r'^(\d{4})-(\d{2})-(\d{2})')


def _impossible_date(text: str) -> bool:
    match = _ISO_DATE.match(text)
    if not match:
        return False
    try:
        datetime(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return True
    return False


# -- expectations ----------------------------------------------------------------------------------------------------


def _error_matches(answer: Answer, status: int, message: str | re.Pattern) -> bool:
    if answer.ok or answer.status != status or answer.error is None:
        return False
    return (
        re.fullmatch(message, answer.error) is not None if isinstance(message, re.Pattern) else answer.error == message
    )


def refuses(status: int, message: str | re.Pattern | Callable[[Context], str | re.Pattern]) -> Expect:
    """The product answers this error (a message, a pattern, or either made from the query) where Cube answers
    something else."""

    def expect(ctx: Context, expected: Answer, product: Answer) -> Answer:
        wanted = message if isinstance(message, (str, re.Pattern)) else message(ctx)
        if _error_matches(product, status, wanted):
            return product
        raise NotAsKnown(f'expected the product to answer {status} {_show(wanted)}, it answers {product.brief()}')

    return expect


def _show(message: str | re.Pattern) -> str:
    return f'/{message.pattern}/' if isinstance(message, re.Pattern) else repr(message)


def answers_rows(check: Callable[[Context, Answer], str | None] | None = None) -> Expect:
    """The product answers rows (200) where Cube answers an error."""

    def expect(ctx: Context, expected: Answer, product: Answer) -> Answer:
        if not product.ok:
            raise NotAsKnown(f'expected the product to answer rows, it answers {product.brief()}')
        problem = check(ctx, product) if check else None
        if problem:
            raise NotAsKnown(problem)
        return product

    return expect


def other_message(status: int) -> Expect:
    """Both refuse the query with the same status; the product words it otherwise."""

    def expect(ctx: Context, expected: Answer, product: Answer) -> Answer:
        if product.ok or product.status != status or expected.status != status:
            raise NotAsKnown(
                f'expected both sides to answer {status}: Cube {expected.brief()}, product {product.brief()}'
            )
        return product

    return expect


def _both_ok(expected: Answer, product: Answer) -> bool:
    return expected.ok and product.ok and len(expected.results) == len(product.results)


# -- the entries' checks ---------------------------------------------------------------------------------------------


_TIME_DIMENSIONS = (
    'TrackedEvents.derivedTstamp',
    'TrackedEvents.utcTime',
    'Sessions.startAt',
    'Sessions.endAt',
    'Sessions.nextStartAt',
    'ReturningUsers.first_timestamp',
)


def _is_time(member: str) -> bool:
    return member in _TIME_DIMENSIONS


def _canon(row: dict) -> str:
    return repr(sorted(row.items()))


def _like_reference(ctx: Context, expected: Answer, product: Answer) -> Answer:
    return _against_reference(ctx, expected, product, lambda sql, params: (with_like_escape(sql), params))


def _dst_reference(ctx: Context, expected: Answer, product: Answer) -> Answer:
    query = ctx.cube.results[0].query
    timezone = _ZONES_BY_LOWER.get(str(query.get('timezone', 'UTC')).lower(), 'UTC')
    range_values = [str(v) for td in query.get('timeDimensions') or [] for v in td.get('dateRange') or []]
    filter_values = [
        str(v)
        for leaf in iter_leaves(query.get('filters'))
        if leaf.get('operator') in DATE_OPERATORS
        for v in leaf.get('values') or []
    ]

    def fix(sql: str, params: list) -> tuple[str, list]:
        return sql, dst_fixed_params(params, timezone, range_values, filter_values)

    return _against_reference(ctx, expected, product, fix)


def _against_reference(ctx: Context, expected: Answer, product: Answer, fix) -> Answer:
    """The product's rows must be Cube's own SQL, fixed, run over the same data."""
    if not _both_ok(expected, product) or len(ctx.cube.results) != 1:
        raise NotAsKnown(f'expected a single result on both sides: Cube {expected.brief()}, product {product.brief()}')
    if 'rows:0' in ctx.explained:
        return expected
    sql, params = ctx.oracle['sql']
    sql, params = fix(sql, params)
    names, reference = reference_rows(ctx.cube_sql, sql, params, ctx.cube.results[0])
    got = projected_rows(product.results[0], names)
    if got != reference:
        raise NotAsKnown(
            f"the product's rows are not Cube's fixed SQL's: only in the product {list((got - reference).elements())[:3]}, "
            f'only in the fixed SQL {list((reference - got).elements())[:3]}'
        )
    out = copy.deepcopy(expected)
    out.results[0].data, out.results[0].total = product.results[0].data, product.results[0].total
    ctx.explained.add('rows:0')
    return out


# -- predicates ------------------------------------------------------------------------------------------------------


CHRONO_ONLY = ('the day after the blue moon',)


def _chrono(ctx: Context) -> bool:
    return any(text in CHRONO_ONLY for text in date_texts(ctx.case.query))


def _chrono_text(ctx: Context) -> str:
    return next(text for text in date_texts(ctx.case.query) if text in CHRONO_ONLY)


def _hidden_member(ctx: Context) -> bool:
    return any(m in HIDDEN for m in member_names(ctx.case.query))


_CUBE_CLIENT_500 = re.compile(
    r'TypeError: .*|Error: Queries list cannot be empty|Error: QueryTimeDimension should be specified for the '
    r"blending query\.|Error: You requested hidden member: '[a-z_]+__[a-z_]+'\..*"
    r'|Error: The query limit has been exceeded\.',
    re.DOTALL,
)


def _cube_500_for_client_input(ctx: Context) -> bool:
    return (
        ctx.cube.status == 500 and ctx.cube.error is not None and _CUBE_CLIENT_500.fullmatch(ctx.cube.error) is not None
    )


def _limit_exceeded(ctx: Context) -> bool:
    """Cube's 500 for a limit over 50,000, which the product answers with Cube's own message."""
    return ctx.cube.error == 'Error: The query limit has been exceeded.'


def _cube_message(ctx: Context) -> re.Pattern:
    message = ctx.cube.error or ''
    return re.compile(re.escape(message.removeprefix('Error: ')) + '|' + re.escape(message), re.DOTALL)


def _own_message_400(ctx: Context, expected: Answer, product: Answer) -> Answer:
    if product.ok or product.status != 400 or _error_matches(product, 400, _cube_message(ctx)):
        raise NotAsKnown(f"expected a 400 with the product's own message, it answers {product.brief()}")
    return product


def _not_json(ctx: Context) -> bool:
    return isinstance(ctx.case.query, str)


def _boolean_word(ctx: Context) -> bool:
    booleans = ('TrackedEvents.isBot', 'TrackedEvents.offline')
    words = ('true', 'false', '1', '0')
    return (
        any(
            leaf.get('member') in booleans and any(str(v).lower() not in words for v in leaf.get('values') or [])
            for leaf in leaves(ctx.case.query)
        )
        and ctx.cube.ok
    )


_BARE_TIME_HIDDEN = re.compile(r"Error: You requested hidden member: '([A-Za-z]+\.[A-Za-z_]+)'\..*", re.DOTALL)


def _cube_500_bare_time(ctx: Context) -> bool:
    match = _BARE_TIME_HIDDEN.fullmatch(ctx.cube.error or '')
    return ctx.cube.status == 500 and match is not None and _is_time(match[1])


def _no_rows(ctx: Context, product: Answer) -> str | None:
    counts = [len(rows_of(r.data)) for r in product.results]
    return None if not any(counts) else f'expected no rows from the product, it answers {counts}'


_DATABASE_ERROR = re.compile(r'Error: (Binder|Conversion|Parser|Invalid Input|Catalog) Error: .*', re.DOTALL)


def _database_error(ctx: Context) -> bool:
    return ctx.cube.status == 400 and _DATABASE_ERROR.fullmatch(ctx.cube.error or '') is not None


def _impossible_dates(ctx: Context) -> bool:
    """An impossible date Cube does not refuse itself (its parser refuses a bare `2024-02-30` range as the product)."""
    cube_refuses = (ctx.cube.error or '').startswith("Can't parse date")
    return not cube_refuses and any(_impossible_date(text) for text in date_texts(ctx.case.query))


def _impossible_text(ctx: Context) -> re.Pattern:
    texts = [re.escape(t) for t in date_texts(ctx.case.query) if _impossible_date(t)]
    return re.compile(f"Can't parse date: '({'|'.join(texts)})'")


def _granular(ctx: Context) -> bool:
    return any(td.get('granularity') for td in time_dimensions(ctx.case.query)) or any(
        isinstance(d, str) and d.count('.') == 2 for item in items(ctx.case.query) for d in item.get('dimensions') or []
    )


LIKE_OPERATORS = ('contains', 'notContains', 'startsWith', 'notStartsWith', 'endsWith', 'notEndsWith')


def _like_special(ctx: Context) -> bool:
    return any(
        leaf.get('operator') in LIKE_OPERATORS and any(re.search(r'[%_\\]', str(v)) for v in leaf.get('values') or [])
        for leaf in leaves(ctx.case.query)
    )


def _near_dst(ctx: Context) -> bool:
    """A date of the query (a resolved date range bound, or a date filter value) within a day of a DST change of the
    query's time zone, in a query with one result."""
    if not ctx.cube.ok or len(ctx.cube.results) != 1:
        return False
    query = ctx.cube.results[0].query
    timezone = _ZONES_BY_LOWER.get(str(query.get('timezone', 'UTC')).lower())
    if timezone is None:
        return False
    values = [v for td in query.get('timeDimensions') or [] for v in td.get('dateRange') or []]
    values += [
        str(v)
        for leaf in iter_leaves(query.get('filters'))
        if leaf.get('operator') in DATE_OPERATORS
        for v in leaf.get('values') or []
    ]
    return bool(local_times_near_dst(values, timezone))


# -- the list --------------------------------------------------------------------------------------------------------

KNOWN_DIFFERENCES: list[KnownDifference] = [
    # Whole answers, deliberate.
    KnownDifference(
        'chrono-dates',
        'deliberate',
        'Cube resolves any text in which chrono-node finds a date, reading a prefix (`the day after the blue moon` is '
        "tomorrow); the product answers `Can't parse date` for text it cannot read whole.",
        _chrono,
        refuses(400, lambda ctx: f"Can't parse date: '{_chrono_text(ctx)}'"),
        whole=True,
    ),
    KnownDifference(
        'cube-500-message',
        'deliberate',
        "Where Cube answers a 500 for a client's mistake in a query object (`measures` not an array, an empty "
        '`compareDateRange`, blending without a time dimension), the product answers a 400, but with its own message '
        "instead of Cube's.",
        lambda ctx: (
            _cube_500_for_client_input(ctx)
            and not _hidden_member(ctx)
            and not _limit_exceeded(ctx)
            and isinstance(ctx.case.query, (dict, list))
        ),
        _own_message_400,
        whole=True,
    ),
    KnownDifference(
        'json-message',
        'deliberate',
        "A `query` that is not JSON: Cube quotes V8's JSON.parse error, the product Python's.",
        _not_json,
        other_message(400),
        whole=True,
    ),
    KnownDifference(
        'boolean-words',
        'deliberate',
        'A boolean dimension filtered with a word DuckDB reads as a boolean (`yes`): Cube answers rows; the product '
        'refuses values other than true/false/1/0.',
        _boolean_word,
        refuses(400, re.compile(r"Invalid boolean value '.*' for filter on .*")),
        whole=True,
    ),
    KnownDifference(
        'cube-500-client-input',
        'deliberate',
        'Cube answers some client mistakes with a 500 (a hidden member, a query that is not an object, an empty '
        "compareDateRange, a limit over 50,000); no client input gets a 5xx from the product: it answers Cube's message "
        'with a 400.',
        _cube_500_for_client_input,
        refuses(400, _cube_message),
        whole=True,
    ),
    KnownDifference(
        'cube-500-empty-bare-time-dimension',
        'deliberate',
        'A time dimension without granularity in a query whose result is empty: Cube 1.7 fails in its result '
        "transform (500 `You requested hidden member: '<time dimension>'`, a member that is not hidden); the product "
        'answers the empty result.',
        _cube_500_bare_time,
        answers_rows(_no_rows),
        whole=True,
    ),
    KnownDifference(
        'database-error-text',
        'deliberate',
        "Cube passes DuckDB's error through as a 400 (`Error: Binder Error: …`, `Error: Conversion Error: …`) for a "
        'query the database cannot run (a date filter on a string, a number filter with a word); the product refuses '
        'such a query itself, with a message that names the member and does not depend on the engine (DuckDB or '
        'Athena).',
        _database_error,
        refuses(400, re.compile(r'(?!Error: ).*', re.DOTALL)),
        whole=True,
    ),
    KnownDifference(
        'impossible-dates',
        'deliberate',
        'An impossible date (`2024-13-45`) in a range or a date filter: Cube sends DuckDB `Invalid date` (a 400 with '
        "DuckDB's conversion error) or, in a filter, compares with it and answers rows; the product answers Cube's "
        "own parser message, `Can't parse date: '2024-13-45'`.",
        _impossible_dates,
        refuses(400, _impossible_text),
        whole=True,
    ),
    # Aspects, deliberate (checked against Cube with the bug fixed).
    KnownDifference(
        'like-escape',
        'deliberate',
        'LIKE patterns with `%`, `_` or `\\` in the value: Cube escapes them with a backslash but sends no ESCAPE '
        'clause, so DuckDB matches a backslash instead; the product matches the characters themselves (checked: its '
        "rows are Cube's SQL with `ESCAPE '\\'` added).",
        _like_special,
        _like_reference,
        may_be_equal=True,
    ),
    KnownDifference(
        'dst-offset',
        'deliberate',
        'Local times near a DST change: Cube converts a wall time to UTC with the offset of the instant that has the '
        "same digits in UTC, which is the wrong one within hours of the change; the product uses the wall time's own "
        'offset, and a value with `Z` or an offset is that instant (checked for every query with a date within a day '
        "of a change: its rows are Cube's SQL with the bounds converted right).",
        _near_dst,
        _dst_reference,
        may_be_equal=True,
    ),
]


@dataclass
class Verdict:
    case: Case
    cube: Answer
    product: Answer
    covered: list[str]  # entries whose predicate selects the query
    applied: list[str]  # those that were checked (none after one that explains the whole answer)
    changed: list[str]  # those that changed the expected answer (the difference was there)
    problems: list[str]


def judge(ctx: Context, product: Answer) -> Verdict:
    """Apply the known differences to Cube's answer; what still differs from the product is a problem."""
    expected, applied, changed, problems = ctx.cube, [], [], []
    covered = [entry for entry in KNOWN_DIFFERENCES if entry.covers(ctx)]
    for entry in covered:
        if not entry.whole and not _both_ok(expected, product):
            continue
        applied.append(entry.id)
        try:
            new = entry.expect(ctx, expected, product)
        except NotAsKnown as error:
            problems.append(f'known difference {entry.id!r} ({entry.kind}) does not hold: {error}')
            break
        if _same(new, expected):
            if not entry.may_be_equal:
                problems.append(
                    f'known difference {entry.id!r} ({entry.kind}) is gone for this query: the product answers as '
                    'Cube does here. Remove the entry (or narrow its predicate).'
                )
        else:
            changed.append(entry.id)
        expected = new
        if entry.whole:
            break
    if not problems:
        problems = [str(d) for d in differences(expected, product)]
    return Verdict(ctx.case, ctx.cube, product, [e.id for e in covered], applied, changed, problems)


def _same(a: Answer, b: Answer) -> bool:
    if (a.status, a.error, a.query_type, len(a.results)) != (b.status, b.error, b.query_type, len(b.results)):
        return False
    return all(
        x.data == y.data and x.annotation == y.annotation and x.total == y.total
        for x, y in zip(a.results, b.results, strict=True)
    )
