"""What a client sees from each side, normalised, and the differences between the two.

An `Answer` is either an error (HTTP status and message) or the results of a load: per result its `data`,
`annotation` and `total`, with Cube's normalised `query` and SQL kept to know how the rows are ordered.

Rows are compared as multisets, and their order only as far as the query's order determines it: the rows of both
sides, projected onto the order's members, must come in the same sequence (ties may come in any order, as DuckDB
leaves them). Where `limit` or `offset` cut through a run of tied rows, which rows of that run are kept is not
determined either, so only their number is compared there.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

# Annotation keys the oracle's README says to compare loosely (emitted by Cube's JS, not verified against the binary).
LOOSE_ANNOTATION_KEYS = ('granularities', 'currency')
_FLOAT = re.compile(r'^-?\d+\.\d+(e[-+]?\d+)?$|^-?\d+e[-+]?\d+$', re.IGNORECASE)
_POSITIONAL_ORDER = re.compile(r'ORDER BY \d+ (?:ASC|DESC)', re.IGNORECASE)


@dataclass
class Result:
    data: Any
    annotation: dict
    total: int | None = None
    query: dict = field(default_factory=dict)
    sql: str = ''


@dataclass
class Answer:
    status: int
    error: str | None = None
    query_type: str | None = None
    results: list[Result] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def brief(self) -> str:
        if not self.ok:
            return f'{self.status} {self.error!r}'
        parts = []
        for result in self.results:
            rows = result.data.get('dataset', []) if isinstance(result.data, dict) else result.data
            parts.append(f'{len(rows)} rows' + (f', total {result.total}' if result.total is not None else ''))
        return f'200 {self.query_type}: ' + '; '.join(parts)


def oracle_answer(out: dict) -> Answer:
    if 'error' in out:
        return Answer(status=int(out.get('status') or 500), error=out['error'])
    sql = out.get('sql') or []
    if 'results' in out:
        sqls = [s[0] for s in sql] if sql and isinstance(sql[0], list) else [sql[0] if sql else '']
        results = [
            Result(r['data'], r['annotation'], r.get('total'), r.get('query') or {}, sqls[i] if i < len(sqls) else '')
            for i, r in enumerate(out['results'])
        ]
        return Answer(status=200, query_type=out['queryType'], results=results)
    result = Result(out['data'], out['annotation'], out.get('total'), out.get('query') or {}, sql[0] if sql else '')
    return Answer(status=200, query_type='regularQuery', results=[result])


def product_answer(body: dict) -> Answer:
    results = [Result(r['data'], r['annotation'], r.get('total'), r.get('query') or {}) for r in body['results']]
    return Answer(status=200, query_type=body['queryType'], results=results)


def product_error(status: int, body: dict) -> Answer:
    return Answer(status=status, error=body.get('error', body.get('message', json.dumps(body))))


# -- normalisation ---------------------------------------------------------------------------------------------------


def _value(value: Any) -> Any:
    """Numbers arrive as strings; a float computed by DuckDB may differ in its last bits between runs (parallel
    sums), so decimals compare to 12 significant digits. Integers and every other string compare exactly."""
    if isinstance(value, str) and _FLOAT.match(value):
        return ('decimal', f'{float(value):.12g}')
    return value


def _row_key(row: dict) -> tuple:
    return tuple(sorted((key, json.dumps(_value(value), sort_keys=True)) for key, value in row.items()))


def rows_of(data: Any) -> list[dict]:
    """The rows of `data` as dicts, whatever the response format (compact is `{members, dataset}`)."""
    if isinstance(data, dict) and 'members' in data and 'dataset' in data:
        members = data['members']
        return [dict(zip(members, row, strict=False)) for row in data['dataset']]
    if isinstance(data, list):
        return data
    raise TypeError(f'unknown data shape: {json.dumps(data)[:200]}')


def annotation_of(annotation: Any) -> Any:
    if not isinstance(annotation, dict):
        return annotation
    out = {}
    for part, members in annotation.items():
        if isinstance(members, dict):
            out[part] = {
                name: {k: v for k, v in spec.items() if k not in LOOSE_ANNOTATION_KEYS}
                if isinstance(spec, dict)
                else spec
                for name, spec in members.items()
            }
        else:
            out[part] = members
    return out


# -- order -----------------------------------------------------------------------------------------------------------


def order_members(result: Result) -> list[str]:
    """The members the rows are sorted by (Cube's normalised order, else its default order), as far as they are
    selected: Cube leaves members that are not selected out of its ORDER BY, and so does the product."""
    query = result.query
    if not _POSITIONAL_ORDER.search(result.sql):
        return []
    order = query.get('order') or []
    if order:
        ids = [item['id'] if isinstance(item, dict) else item[0] for item in order]
    else:
        ids = _default_order(query)
    selected = set(query.get('measures') or []) | set(query.get('dimensions') or [])
    selected |= {td['dimension'] for td in query.get('timeDimensions') or [] if td.get('granularity')}
    selected |= {
        f'{td["dimension"]}.{td["granularity"]}' for td in query.get('timeDimensions') or [] if td.get('granularity')
    }
    keys = []
    for member in ids:
        if member not in selected:
            break
        keys.append(member)
    return keys


def _default_order(query: dict) -> list[str]:
    """Cube's `BaseQuery#defaultOrder`."""
    granular = [td['dimension'] for td in query.get('timeDimensions') or [] if td.get('granularity')]
    if granular:
        return [granular[0]]
    if query.get('measures') and query.get('dimensions'):
        return [query['measures'][0]]
    if query.get('dimensions'):
        return [query['dimensions'][0]]
    return []


def _project(row: dict, keys: list[str]) -> tuple:
    return tuple(json.dumps(_value(row.get(key))) for key in keys)


def _runs(rows: list[dict], keys: list[str]) -> list[tuple[tuple, list[dict]]]:
    runs: list[tuple[tuple, list[dict]]] = []
    for row in rows:
        key = _project(row, keys)
        if runs and runs[-1][0] == key:
            runs[-1][1].append(row)
        else:
            runs.append((key, [row]))
    return runs


# -- differences -----------------------------------------------------------------------------------------------------


@dataclass
class Difference:
    aspect: str  # 'error', 'query-type', 'results', 'annotation', 'total', 'members', 'rows', 'order'
    detail: str
    result: int | None = None

    def __str__(self) -> str:
        where = f'[result {self.result}] ' if self.result is not None else ''
        return f'{where}{self.aspect}: {self.detail}'


def differences(cube: Answer, product: Answer) -> list[Difference]:
    if not cube.ok or not product.ok:
        if (cube.status, cube.error) != (product.status, product.error):
            return [Difference('error', f'Cube {cube.brief()} / product {product.brief()}')]
        return []
    if cube.query_type != product.query_type:
        return [Difference('query-type', f'Cube {cube.query_type} / product {product.query_type}')]
    if len(cube.results) != len(product.results):
        return [Difference('results', f'Cube {len(cube.results)} results / product {len(product.results)}')]
    found = []
    for index, (ours, theirs) in enumerate(zip(cube.results, product.results, strict=True)):
        found += [replace(d, result=index) for d in result_differences(ours, theirs)]
    return found


def result_differences(cube: Result, product: Result) -> list[Difference]:
    found = []
    cube_annotation, product_annotation = annotation_of(cube.annotation), annotation_of(product.annotation)
    if cube_annotation != product_annotation:
        found.append(Difference('annotation', annotation_diff(cube_annotation, product_annotation)))
    if cube.total != product.total:
        found.append(Difference('total', f'Cube {cube.total} / product {product.total}'))
    cube_compact = isinstance(cube.data, dict)
    if cube_compact != isinstance(product.data, dict):
        shape = {True: 'compact {members, dataset}', False: 'rows'}
        found.append(Difference('shape', f'Cube {shape[cube_compact]} / product {shape[not cube_compact]}'))
        return found
    if cube_compact and cube.data.get('members') != product.data.get('members'):
        found.append(Difference('members', f'Cube {cube.data.get("members")} / product {product.data.get("members")}'))
    found += row_differences(cube, product)
    return found


def row_differences(cube: Result, product: Result) -> list[Difference]:
    cube_rows, product_rows = rows_of(cube.data), rows_of(product.data)
    keys = order_members(cube)
    limit = cube.query.get('limit', cube.query.get('rowLimit'))
    cut_start = bool(cube.query.get('offset'))
    cut_end = isinstance(limit, int) and len(cube_rows) >= limit > 0
    cube_runs, product_runs = _runs(cube_rows, keys), _runs(product_rows, keys)
    cube_shape = [(key, len(rows)) for key, rows in cube_runs]
    product_shape = [(key, len(rows)) for key, rows in product_runs]
    cube_set = Counter(
        _row_key(r)
        for i, (_, rows) in enumerate(cube_runs)
        for r in rows
        if not _boundary(i, cube_runs, cut_start, cut_end)
    )
    product_set = Counter(
        _row_key(r)
        for i, (_, rows) in enumerate(product_runs)
        for r in rows
        if not _boundary(i, product_runs, cut_start, cut_end)
    )
    found = []
    if cube_set != product_set or len(cube_rows) != len(product_rows):
        found.append(Difference('rows', _rows_diff(cube_rows, product_rows, cube_set, product_set)))
    elif cube_shape != product_shape:
        first = next(
            (i for i, (a, b) in enumerate(zip(cube_shape, product_shape, strict=False)) if a != b),
            min(len(cube_shape), len(product_shape)),
        )
        found.append(
            Difference(
                'order',
                f'by {keys}: runs differ from run {first}: Cube {cube_shape[first : first + 3]} / '
                f'product {product_shape[first : first + 3]}',
            )
        )
    return found


def _boundary(index: int, runs: list, cut_start: bool, cut_end: bool) -> bool:
    return (cut_start and index == 0) or (cut_end and index == len(runs) - 1)


def _rows_diff(cube_rows: list[dict], product_rows: list[dict], cube_set: Counter, product_set: Counter) -> str:
    only_cube = list((cube_set - product_set).elements())
    only_product = list((product_set - cube_set).elements())

    def show(keys: list[tuple]) -> str:
        return '; '.join(json.dumps(dict(k), ensure_ascii=False) for k in keys[:4]) + (' …' if len(keys) > 4 else '')

    text = f'Cube {len(cube_rows)} rows / product {len(product_rows)} rows'
    if only_cube:
        text += f'\n      only in Cube ({len(only_cube)}): {show(only_cube)}'
    if only_product:
        text += f'\n      only in product ({len(only_product)}): {show(only_product)}'
    return text


def annotation_diff(cube: Any, product: Any, path: str = '') -> str:
    """The paths where two annotations differ, with both values, shortest first."""
    lines: list[str] = []

    def walk(a: Any, b: Any, where: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in list(a) + [k for k in b if k not in a]:
                if key not in b:
                    lines.append(f'{where}.{key}: Cube {json.dumps(a[key])} / product (missing)')
                elif key not in a:
                    lines.append(f'{where}.{key}: Cube (missing) / product {json.dumps(b[key])}')
                else:
                    walk(a[key], b[key], f'{where}.{key}')
        elif a != b:
            lines.append(f'{where}: Cube {json.dumps(a)} / product {json.dumps(b)}')

    walk(cube, product, path)
    return '\n      '.join(lines[:6]) + (f'\n      … {len(lines) - 6} more' if len(lines) > 6 else '')
