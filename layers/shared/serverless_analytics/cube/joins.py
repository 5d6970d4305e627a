"""Cube's join graph (schema-compiler `JoinGraph`): which cube is the root, the join tree over a query's cubes,
and which cubes' rows a join multiplies.

Ported step by step so that a query joins exactly as Cube joins it: the graph is directed (a cube reaches the
cubes it declares `joins` to), paths are node-dijkstra's shortest paths (ties resolved in declaration order),
every hint is tried as the root and the smallest tree wins (the first of equals), and a cube is multiplied when
a `hasMany` from it, or a `belongsTo` to it, lies anywhere in the tree as seen from it.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from serverless_analytics.cube.datamodel import Cube, Join
from serverless_analytics.models.errors import CubeQueryError

Hint = tuple[str, ...]  # one cube, or a path of cubes (a view member's join path)
_MAX_CACHED_TREES = 4096


@dataclass(frozen=True)
class JoinTree:
    root: str
    joins: tuple[Join, ...]
    multiplied: dict[str, bool]

    @property
    def cubes(self) -> list[str]:
        return [self.root, *(join.target for join in self.joins)]


class JoinGraph:
    def __init__(self, cubes: Iterable[Cube]):
        self.edges: dict[tuple[str, str], Join] = {}
        self.neighbours: dict[str, list[str]] = {}
        for cube in cubes:
            for join in cube.joins:
                self.edges[(join.source, join.target)] = join
                self.neighbours.setdefault(join.source, []).append(join.target)
        self._trees: dict[tuple[Hint, ...], JoinTree] = {}

    def build(self, hints: list[Hint]) -> JoinTree:
        """Cube's `buildJoin`: the smallest tree over all hints, trying each hint as the root in turn."""
        key = tuple(hints)
        tree = self._trees.get(key)
        if tree is None:
            tree = self._build(hints)
            if len(self._trees) < _MAX_CACHED_TREES:
                self._trees[key] = tree
        return tree

    def _build(self, hints: list[Hint]) -> JoinTree:
        candidates = []
        for hint in hints:
            joins = self._tree_for_root(hint, [other for other in hints if other != hint])
            if joins is not None:
                candidates.append((hint[0], joins))
        if not candidates:
            raise CubeQueryError(f"Can't find join path to join {', '.join(_quoted(hint) for hint in hints)}")
        root, joins = min(candidates, key=lambda candidate: len(candidate[1]))  # min keeps the first of equals
        multiplied = {hint[-1]: _is_multiplied(hint[-1], joins) for hint in hints}
        return JoinTree(root, tuple(joins), multiplied)

    def _tree_for_root(self, root_hint: Hint, hints: list[Hint]) -> list[Join] | None:
        """Cube's `buildJoinTreeForRoot`: walk each hint's cubes from the root, joining along shortest paths."""
        root, *rest = root_hint
        to_join = [tuple(rest), *hints] if rest else hints
        joined: set[str] = set()
        joins: list[Join] = []
        for hint in to_join:
            previous = root
            for cube in [cube for cube in hint if cube != root]:
                if cube in joined:
                    previous = cube
                    continue
                path = self._path(previous, cube)
                if path is None:
                    return None
                joins += [self.edges[(a, b)] for a, b in zip(path, path[1:], strict=False)]
                previous = cube
                joined.add(cube)
        unique: dict[tuple[str, str], Join] = {}
        for join in joins:  # Cube's R.uniq: each edge once, where it first appears
            unique.setdefault((join.source, join.target), join)
        return list(unique.values())

    def _path(self, start: str, goal: str) -> list[str] | None:
        """node-dijkstra's `path` with every edge weighing 1: a frontier kept stably sorted by cost."""
        if not self.neighbours or start == goal:
            return None
        explored: set[str] = set()
        frontier: list[list] = [[start, 0]]
        previous: dict[str, str] = {}
        while frontier:
            node, cost = frontier.pop(0)
            if node == goal:
                return _walk_back(goal, previous)
            explored.add(node)
            for neighbour in self.neighbours.get(node, []):
                if neighbour not in explored:
                    _relax(frontier, previous, node, neighbour, cost + 1)
        return None

    def connected_components(self) -> dict[str, int]:
        """Cube's `connectedComponents` (shown in /v1/meta): a number per group of cubes joined either way,
        counted over the cubes that declare joins, in declaration order."""
        undirected: dict[str, list[str]] = {}
        for source, target in self.edges:
            undirected.setdefault(target, []).append(source)
            undirected.setdefault(source, []).append(target)
        components: dict[str, int] = {}
        for number, node in enumerate(self.neighbours, start=1):
            stack = [node]
            while stack:
                current = stack.pop()
                if current not in components:
                    components[current] = number
                    stack.extend(reversed(undirected.get(current, [])))
        return components


def _relax(frontier: list[list], previous: dict[str, str], node: str, neighbour: str, cost: int) -> None:
    entry = next((item for item in frontier if item[0] == neighbour), None)
    if entry is None:
        previous[neighbour] = node
        frontier.append([neighbour, cost])
    elif cost < entry[1]:
        previous[neighbour] = node
        entry[1] = cost
    frontier.sort(key=lambda item: item[1])  # stable, as V8's sort


def _walk_back(goal: str, previous: dict[str, str]) -> list[str]:
    path = [goal]
    while path[-1] in previous:  # back to the start, the one node without a predecessor
        path.append(previous[path[-1]])
    return path[::-1]


def _is_multiplied(cube: str, joins: list[Join]) -> bool:
    """Cube's `findMultiplicationFactorFor`: seen from `cube`, does some join of the tree fan its rows out?"""
    visited: set[str] = set()

    def multiplied_from(current: str) -> bool:
        if current in visited:
            return False
        visited.add(current)
        around = [join for join in joins if current in (join.source, join.target)]
        if any(_multiplies(current, join) and _other(current, join) not in visited for join in around):
            return True
        return any(multiplied_from(_other(current, join)) for join in around)

    return multiplied_from(cube)


def _multiplies(cube: str, join: Join) -> bool:
    return (join.source == cube and join.relationship == 'hasMany') or (
        join.target == cube and join.relationship == 'belongsTo'
    )


def _other(cube: str, join: Join) -> str:
    return join.target if join.source == cube else join.source


def _quoted(hint: Hint) -> str:
    return f"'{','.join(hint)}'"  # a path hint prints as a JavaScript array does
