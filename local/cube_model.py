"""The product's data model, copied for Cube: the same YAML without the product's extensions, member SQL transpiled
from Trino (what the product's model is written in) to DuckDB with sqlglot, as the product's compiler renders it,
and the user-session index read as what it is by definition, its view over all events."""

import re
from pathlib import Path
from typing import Any

import sqlglot
import yaml

from serverless_analytics.cube.datamodel import MODEL_DIALECT, MODEL_DIR, USER_SESSIONS_TABLE, USER_SESSIONS_VIEW

# Keys of the product's model that Cube does not have (docs/cube.md, "Extensions"). Cube's schema validation refuses
# any other unknown key, so a new extension shows as the oracle failing to compile the copy: add it here.
EXTENSION_KEYS = frozenset({'dt_partition', 'dt_margin_days'})
_REFERENCE = re.compile(r'\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\}')


def transpile(sql: str) -> str:
    """Member or cube SQL from the model's dialect to DuckDB, `{CUBE}` / `{member}` references kept as they are."""
    references: list[str] = []

    def hide(match: re.Match) -> str:
        references.append(match.group(1))
        return f'__ref{len(references) - 1}__'

    tree = sqlglot.parse_one(_REFERENCE.sub(hide, sql), read=MODEL_DIALECT).transform(_unnamed_struct)
    text = tree.sql(dialect='duckdb')
    return re.sub(r'"?__ref(\d+)__"?', lambda m: '{' + references[int(m.group(1))] + '}', text)


def _unnamed_struct(node: sqlglot.exp.Expression) -> sqlglot.exp.Expression:
    """Trino's `ROW(a, b)` as DuckDB's `ROW(a, b)`: sqlglot writes a struct literal `{'a': a, 'b': b}`, whose braces
    Cube's model parser reads as a template reference."""
    if isinstance(node, sqlglot.exp.Struct):
        values = [item.expression if isinstance(item, sqlglot.exp.PropertyEQ) else item for item in node.expressions]
        return sqlglot.exp.Anonymous(this='ROW', expressions=[value.copy() for value in values])
    return node


def cube_sql(sql: str, user_sessions: str = USER_SESSIONS_VIEW) -> str:
    """A cube's own SQL for Cube, the table `user_sessions` replaced by `user_sessions` (a query in the model's
    dialect: by default the index's view over all events)."""
    tree = sqlglot.parse_one(sql, read=MODEL_DIALECT)
    replacement = sqlglot.parse_one(user_sessions, read=MODEL_DIALECT)
    for table in list(tree.find_all(sqlglot.exp.Table)):
        if table.name == USER_SESSIONS_TABLE and not table.db:
            table.replace(sqlglot.exp.alias_(replacement.subquery(), table.alias_or_name, table=True))
    return transpile(tree.sql(dialect=MODEL_DIALECT))


def member_sql(sql: str) -> str:
    """Member SQL for Cube, in parentheses unless it is a bare reference: Cube pastes member SQL into its queries as
    text, where DuckDB's `->>` (what sqlglot makes of Trino's `json_extract_scalar`) binds more loosely than `ILIKE`,
    `IN` or `=`; the product builds an expression tree, which needs no parentheses."""
    text = transpile(sql)
    return text if re.fullmatch(r'\{[A-Za-z_.]+\}(\.[A-Za-z_]+)?', text) else f'({text})'


def _copy(node: Any, in_cube: bool = False, user_sessions: str = USER_SESSIONS_VIEW) -> Any:
    """The model tree without the product's extensions, every `sql` transpiled: a cube's own `sql` as a statement,
    any other (members, measure filters, segments, joins, case branches) as an expression."""
    if isinstance(node, list):
        return [_copy(item, in_cube, user_sessions) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in EXTENSION_KEYS:
            continue
        if key == 'sql' and isinstance(value, str):
            out[key] = cube_sql(value, user_sessions) if in_cube else member_sql(value)
        else:
            out[key] = _copy(value, key == 'cubes' and isinstance(value, list), user_sessions)
    return out


def cube_model_files(source: Path = MODEL_DIR, user_sessions: str = USER_SESSIONS_VIEW) -> dict[str, str]:
    """File name → YAML text of the Cube copy of every model file under `source` (cubes and views), the table
    `user_sessions` read as the query `user_sessions` (by default its definition, the view over all events)."""
    files = {}
    for path in sorted([*source.glob('*.yml'), *source.glob('*.yaml')]):
        document = yaml.safe_load(path.read_text()) or {}
        copied = {key: _copy(value, key == 'cubes', user_sessions) for key, value in document.items()}
        files[path.name] = yaml.safe_dump(copied, sort_keys=False, allow_unicode=True, width=1000)
    return files


def write_cube_model(directory: Path, source: Path = MODEL_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in cube_model_files(source).items():
        (directory / name).write_text(text)
    return directory
