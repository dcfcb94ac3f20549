"""Small-group suppression on the HR dashboard: no figure about fewer than 5 learners is shown or can be worked out.

The rule, applied to every table, chart and CSV export of the dashboard, whatever its filters:

1. **Primary suppression.** A group of 1 to 4 learners (`is_small`) shows no figure: not its size, not what its
   members did. The cell says `SMALL`. An empty group is shown: it describes nobody.

2. **The learners of the organisation** are a cube of site × department × age band. Every view of the dashboard
   (no filter, a site, a department, both) and every row of its breakdowns (by site, by department, by age band)
   is one cell of that cube or of its margins, so one pattern of hidden cells (`suppression_pattern`), computed
   from the whole organisation and used by every view, decides what every view shows. For each small leaf (one
   site, department and age band), the pattern hides a whole "hypercube" of cells around it: for each dimension
   either another value (a partner) or the margin "all", and the 8 cells at the corners. Moving one learner
   around that cube (+1, -1, +1...) changes none of the cells still shown, so no sum or difference of shown
   figures, from any number of views, gives the small group; and each leaf corner on the other side of the cube
   holds enough learners to make at least 5 with it, so whatever combination of hidden cells can be worked out
   holds at least 5 learners. A cell stands for every figure of its learners (registered, active, started...).
   A view whose own cell is hidden is refused whole: every table about its learners, charts included. A hidden
   breakdown row says `SMALL`, or `WITHHELD` when it is large but hidden to protect a smaller one. The rows hidden
   in a breakdown whose view is shown are also given together in one row (their sum can be worked out from the
   total anyway, and it is at least 5 by the above).

3. **Figures about what learners did** (who started a theme, opened a module, answered a question, answered
   the questionnaire, booked a seat, was reached by a mentor) come from other tables than the cube. Each row has
   a base: the learners its shares or counts are over. A row with a small base shows nothing (`SMALL`), and a row
   is `WITHHELD` when any wider view (the same filters with one or more of them removed: site, department, theme,
   start or end of the period) would differ from it by 1 to 4 learners, since the wider view minus this one would
   show that small group (`row_marker`).

What is left:

- Rule 3 compares a view with the views that contain it. Two views that do not contain each other (two
  overlapping periods, two sites), or three views or more, can still narrow down a small base inside a shown group
  of 5 or more: for example, 3 of a site's 50 learners who started a theme, found as everyone minus every other
  site. Closing that needs the rollups per site and department, or rounded figures.
- A combined hidden group where nobody (or everybody) did something tells that of each of its members.
- Some bases stand in for learners: a quiz's attempts count retries, the seats of sessions count places (a learner
  may hold several), and the median's floor is the module completed most often.
- Age bands are reckoned at the period's end, so two periods ending in different years may move a learner from one
  band to the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import combinations, product
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

MIN_GROUP = 5
SMALL = "fewer than 5 learners: not shown, to protect privacy"
WITHHELD = "not shown, to protect privacy: it would reveal a group of fewer than 5 learners"
RULE = (
    "A group of fewer than 5 learners shows no figure. Figures from which such a group could be worked out, by "
    "comparing rows, tables or filters, are not shown either."
)
ALL = None  # in a cell of the cube: every site, every department or every age band

V = TypeVar("V", bound="DataclassInstance")
Leaf = tuple[str, str, str]  # site, department, age band
Cell = tuple[str | None, str | None, str | None]  # a leaf, or a margin where ALL stands for a dimension summed over


def is_small(learners: int) -> bool:
    """Whether a group of this many learners is too small to show: at least one, fewer than MIN_GROUP."""
    return 0 < learners < MIN_GROUP


def row_marker(bases: Sequence[int], complements: Iterable[int] = ()) -> str | None:
    """What a row says instead of its figures, or None to show them.

    `bases` are the learners the row's figures are over; `complements` how many of theirs each wider view holds that
    this one does not (the wider view minus this one), which must not be a small group either.
    """
    if any(is_small(base) for base in bases):
        return SMALL
    if any(is_small(outside) for outside in complements):
        return WITHHELD
    return None


def wider_views(view: V, names: Sequence[str]) -> list[V]:
    """Every view holding `view` (a frozen dataclass of filters): the same filters with one or more of `names` removed."""
    present = [name for name in names if getattr(view, name)]
    return [replace(view, **_cleared(dropped)) for size in range(1, len(present) + 1) for dropped in combinations(present, size)]


def _cleared(names: Iterable[str]) -> dict[str, Any]:
    cleared: dict[str, Any] = dict.fromkeys(names)
    return cleared


@dataclass(frozen=True)
class Pattern:
    """The learners in each cell of the site × department × age band cube, and which cells no view may show."""

    sizes: Mapping[Cell, int]
    hidden: frozenset[Cell]

    def size(self, cell: Cell) -> int:
        """How many learners the cell holds."""
        return self.sizes.get(cell, 0)

    def marker(self, cell: Cell) -> str | None:
        """What the cell says instead of its figures; None when they are shown."""
        if cell not in self.hidden:
            return None
        return SMALL if is_small(self.size(cell)) else WITHHELD


def suppression_pattern(leaves: Mapping[Leaf, int]) -> Pattern:
    """The cells to hide, given the learners of each site, department and age band of the whole organisation."""
    return _pattern(MIN_GROUP, frozenset(leaves.items()))


@lru_cache(maxsize=16)
def _pattern(min_group: int, leaves: frozenset[tuple[Leaf, int]]) -> Pattern:
    """The pattern for one state of the organisation, kept while it does not change: a sparse cube takes a while."""
    counts = dict(leaves)
    sizes = cell_sizes(counts)
    hidden = {cell for cell, learners in sizes.items() if is_small(learners)}
    values = [sorted({leaf[dimension] for leaf in counts}) for dimension in range(3)]
    for leaf in sorted((leaf for leaf, n in counts.items() if is_small(n)), key=lambda leaf: (counts[leaf], leaf)):
        hidden |= _cheapest_cube(leaf, sizes, hidden, values)
    return Pattern(MappingProxyType(sizes), frozenset(hidden))


def cell_sizes(leaves: Mapping[Leaf, int]) -> dict[Cell, int]:
    """The learners of every cell: each leaf counts in itself and in the 7 margins above it."""
    sizes: dict[Cell, int] = {}
    for leaf, learners in leaves.items():
        if learners:
            for site, department, band in product((leaf[0], ALL), (leaf[1], ALL), (leaf[2], ALL)):
                cell = (site, department, band)
                sizes[cell] = sizes.get(cell, 0) + learners
    return sizes


def _cheapest_cube(leaf: Leaf, sizes: Mapping[Cell, int], hidden: set[Cell], values: list[list[str]]) -> set[Cell]:
    """The corners of the hypercube around a small leaf that hides the fewest learners not hidden yet.

    Every corner holds learners (so one can be moved away from it), and every leaf corner on the other side of the
    cube from `leaf` holds enough learners that the two together make at least MIN_GROUP. Taking ALL in every
    dimension always qualifies, so a cube is always found. Searched one dimension at a time, cheapest partners
    first, leaving a branch as soon as it hides more than the best cube found so far.
    """
    enough = MIN_GROUP - sizes[leaf]

    def cost(cell: Cell) -> tuple[int, int]:
        return (0, 0) if cell in hidden else (sizes[cell], 1)

    def takes_part(cell: Cell) -> bool:
        learners = sizes.get(cell, 0)
        if learners >= enough or learners == 0:
            return learners > 0
        moves = (cell[0] != leaf[0]) + (cell[1] != leaf[1]) + (cell[2] != leaf[2])
        return ALL in cell or moves % 2 == 0  # a leaf on the other side must make a large enough group with `leaf`

    def partners(dimension: int) -> list[str | None]:
        usable = [v for v in [ALL, *values[dimension]] if v != leaf[dimension] and takes_part(_moved(leaf, dimension, v))]
        return sorted(usable, key=lambda value: cost(_moved(leaf, dimension, value)))

    choices = [partners(dimension) for dimension in range(3)]
    best: list[list[Cell]] = []
    best_cost = [(sum(sizes.values()) + 1, 0)]

    def grow(corners: list[Cell], spent: tuple[int, int], dimension: int) -> None:
        if dimension == 3:
            best[:], best_cost[0] = [corners], spent
            return
        for partner in choices[dimension]:
            if best_cost[0] == (0, 0):
                return  # a cube already hidden protects this leaf too
            added = [_moved(corner, dimension, partner) for corner in corners]
            if all(map(takes_part, added)):
                total = _plus(spent, *map(cost, added))
                if total < best_cost[0]:
                    grow(corners + added, total, dimension + 1)

    grow([leaf], cost(leaf), 0)
    return set(best[0])


def _plus(*costs: tuple[int, int]) -> tuple[int, int]:
    return (sum(c[0] for c in costs), sum(c[1] for c in costs))


def _moved(cell: Cell, dimension: int, value: str | None) -> Cell:
    moved = list(cell)
    moved[dimension] = value
    return (moved[0], moved[1], moved[2])
