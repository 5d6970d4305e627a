"""cube.pruning: a derived cube's unread columns and row-preserving LEFT JOINs go; nothing that decides its rows."""

import sqlglot
from sqlglot import exp

from serverless_analytics.cube.pruning import prune_source, used_columns

HISTORY = (
    'SELECT s.*, h.rank AS rank_, h.next_at FROM (SELECT id, user_id FROM t GROUP BY id, user_id) AS s '
    'LEFT JOIN (SELECT id, row_number() OVER (ORDER BY min(at)) AS rank, min(at) AS next_at FROM u GROUP BY id) AS h '
    'ON h.id = s.id'
)


def _pruned(sql: str, used: set[str]) -> str:
    source = sqlglot.parse_one(sql)
    assert isinstance(source, exp.Select)
    prune_source(source, used)
    return source.sql()


def test_unread_columns_and_the_join_only_they_read_go():
    assert _pruned(HISTORY, {'user_id'}) == 'SELECT s.* FROM (SELECT id, user_id FROM t GROUP BY id, user_id) AS s'


def test_a_read_column_keeps_its_join():
    assert 'LEFT JOIN' in _pruned(HISTORY, {'next_at'})
    assert 'rank_' not in _pruned(HISTORY, {'next_at'})


def test_a_star_read_keeps_everything():
    assert _pruned(HISTORY, {'*'}) == sqlglot.parse_one(HISTORY).sql()


def test_a_join_that_may_multiply_rows_stays():
    not_grouped = HISTORY.replace(' GROUP BY id) AS h', ') AS h')
    grouped_wider = HISTORY.replace(' GROUP BY id) AS h', ' GROUP BY id, at) AS h')
    for sql in (not_grouped, grouped_wider, HISTORY.replace('LEFT JOIN', 'JOIN')):
        assert 'JOIN' in _pruned(sql, {'user_id'})


def test_a_join_read_by_the_sources_own_clauses_stays():
    assert 'LEFT JOIN' in _pruned(HISTORY + ' WHERE h.next_at IS NULL', {'user_id'})


def test_columns_that_decide_rows_or_are_named_by_position_stay():
    for sql in (
        'SELECT DISTINCT a, b FROM t',
        'SELECT a, b FROM t GROUP BY 1, 2',
        'SELECT a, b FROM t ORDER BY 2',
    ):
        assert _pruned(sql, {'a'}) == sqlglot.parse_one(sql).sql()
    assert _pruned('SELECT a, count(*) AS n FROM t GROUP BY a HAVING n > 1', {'a'}) == (
        'SELECT a, COUNT(*) AS n FROM t GROUP BY a HAVING n > 1'
    )


def test_used_columns_are_read_per_alias():
    tree = sqlglot.parse_one('SELECT "c".a, c.b, d.x, "c".* FROM c JOIN d ON c.k = d.k')
    assert used_columns(tree, {'c'}) == {'c': {'a', 'b', 'k', '*'}}
