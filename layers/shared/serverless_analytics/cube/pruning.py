"""Dropping what a query does not read from a derived cube's SQL: its unused output columns, then each LEFT JOIN
that nothing reads any more and that cannot change the rows (its side is grouped by its join key).

Why by hand: Sessions joins every session to its user's whole history (`user_sessions`) for `isFirst` and
`nextStartAt` alone. DuckDB drops that join when nothing reads it in most plans, but not in all (not under a
distinct count, whose aggregate it moves to a CTE first), nor does every engine; a query such as
`Sessions.averagePerUser` then aggregates the project's whole index for nothing (about 5x its time on the 10M-event
bench lake). sqlglot's own `eliminate_joins` needs the whole query qualified first, far beyond the compile budget.
"""

from sqlglot import exp


def used_columns(tree: exp.Expression, aliases: set[str]) -> dict[str, set[str]]:
    """Per relation alias, the column names the query reads from it (`*` for a star)."""
    used: dict[str, set[str]] = {alias: set() for alias in aliases}
    for column in tree.find_all(exp.Column):
        if column.table in used:
            used[column.table].add(column.name or '*')
    return used


def prune_source(source: exp.Select, used: set[str]) -> None:
    """Drop the source's named output columns outside `used`, then its unread row-preserving LEFT JOINs."""
    if '*' in used or not _prunable(source):
        return
    needed = used | _read_by_clauses(source)
    kept = [e for e in source.expressions if _is_star(e.unalias()) or e.alias_or_name in needed]
    if len(kept) < len(source.expressions):
        source.set('expressions', kept)
    joins = source.args.get('joins') or []
    for join in list(joins):
        if _droppable(source, join):
            joins.remove(join)


def _is_star(expression: exp.Expression) -> bool:
    return isinstance(expression, exp.Star) or (
        isinstance(expression, exp.Column) and isinstance(expression.this, exp.Star)
    )


def _prunable(source: exp.Select) -> bool:
    """Output columns can go unless they decide the rows (DISTINCT) or are named by position."""
    if source.args.get('distinct'):
        return False
    positional = [source.args.get('group'), source.args.get('order')]
    return not any(clause and clause.find(exp.Literal) for clause in positional)


def _read_by_clauses(source: exp.Select) -> set[str]:
    """Names the source's own clauses read (an output column's alias in HAVING or ORDER BY keeps it)."""
    clauses = [source.args.get(key) for key in ('where', 'group', 'having', 'qualify', 'order')]
    return {column.name for clause in clauses if clause for column in clause.find_all(exp.Column)}


def _droppable(source: exp.Select, join: exp.Join) -> bool:
    """A LEFT JOIN of a sub-query grouped by exactly the column its ON compares, whose alias nothing else reads."""
    side = join.this
    if join.side != 'LEFT' or not isinstance(side, exp.Subquery) or not isinstance(side.this, exp.Select):
        return False
    alias = side.alias_or_name
    condition = join.args.get('on')
    if not alias or not isinstance(condition, exp.EQ):
        return False
    keys = [c.name for c in (condition.this, condition.expression) if isinstance(c, exp.Column) and c.table == alias]
    group = side.this.args.get('group')
    grouped_by = [e.name if isinstance(e, exp.Column) else None for e in group.expressions] if group else []
    if len(keys) != 1 or grouped_by != keys:
        return False
    return not any(column.table == alias and not _within(column, join) for column in source.find_all(exp.Column))


def _within(node: exp.Expression, ancestor: exp.Expression) -> bool:
    parent = node.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False
