"""The caps on one Cube request, in one place (docs/cube.md, "Limits").

Cube itself has none of these caps but `MAX_LIMIT`; each bounds work that would otherwise grow with the request
(or make Python's recursion, datetime range or Athena's query length fail), and is refused with a 400 UserError.
"""

# Rows: Cube's own default and maximum `limit` (spec §1.6); over the maximum Cube answers 500. GitLab's
# zero-filled days (logic/gitlab.py) never take a result past its limit either.
DEFAULT_LIMIT = 10_000
MAX_LIMIT = 50_000

# Queries of one request: items of a blending array, or ranges of a compareDateRange (each runs one SQL query).
MAX_QUERIES_PER_REQUEST = 20

# Members of one query: measures + dimensions + timeDimensions + segments + filters, where every filter
# condition and every and/or group counts. GitLab's dashboards send a handful.
MAX_MEMBERS_PER_QUERY = 100

# Values of all filters of one query together (each becomes a literal, most a condition of its own).
MAX_FILTER_VALUES = 1_000

# Entries of one query's `order` (object keys or pairs).
MAX_ORDER_ITEMS = 100

# Levels of and/or groups in `filters` (`[{"or": [...]}]` is one level).
MAX_FILTER_DEPTH = 20

# Levels of JSON arrays and objects in the `query` parameter; a query with filters MAX_FILTER_DEPTH deep uses
# about 2 * MAX_FILTER_DEPTH + 5.
MAX_JSON_DEPTH = 64

# Characters of a relative date expression (`last 7 days`): the chrono-style patterns backtrack, in time that
# grows with the square of the text; the longest expression Cube's grammar reads is far shorter.
MAX_DATE_EXPRESSION_CHARS = 256

# Characters of a `timezone` (the longest IANA name has 32); a longer one is not looked up.
MAX_TIMEZONE_CHARS = 64

# UTF-8 bytes of one compiled SQL statement: Athena refuses longer query strings (StartQueryExecution's
# QueryString), so every engine refuses them alike.
MAX_SQL_BYTES = 262_144
