"""Small-group suppression, the policy alone (app.hr.privacy), on random organisations: no database.

No set of 1 to 4 learners can be computed from all the cells the pattern leaves shown, by any sum or difference of
any number of views; a breakdown's hidden rows are never a small group together; two nested views that both show a
row never differ by a small group.
"""

import itertools
from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from app.hr import privacy, stats
from app.hr.privacy import ALL, SMALL, WITHHELD


def test_a_small_group_is_one_to_four_learners():
    assert [privacy.is_small(n) for n in range(7)] == [False, True, True, True, True, False, False]


def test_a_row_is_hidden_when_its_base_or_its_difference_with_a_wider_view_is_small():
    assert privacy.row_marker([12], [0, 7]) is None
    assert privacy.row_marker([3]) == SMALL
    assert privacy.row_marker([12], [7, 2]) == WITHHELD
    assert privacy.row_marker([0], [0]) is None  # an empty group describes nobody


def _reduced_rows(rows, order):
    """The reduced row echelon basis of `rows`, pivots taken in the column `order`."""
    basis = []
    for row in rows:
        vector = [Fraction(x) for x in row]
        for pivot, base in basis:
            if vector[pivot]:
                factor = vector[pivot]
                vector = [x - factor * y for x, y in zip(vector, base, strict=True)]
        pivot = next((column for column in order if vector[column]), None)
        if pivot is None:
            continue
        vector = [x / vector[pivot] for x in vector]
        basis = [(p, [x - b[pivot] * y for x, y in zip(b, vector, strict=True)]) for p, b in basis]
        basis.append((pivot, vector))
    return basis


def derivable_small_groups(leaves, published):
    """Every set of leaves holding 1 to 4 learners whose figures follow from the `published` sets of leaves."""
    names = sorted(leaves)
    column = {leaf: index for index, leaf in enumerate(names)}
    small = [leaf for leaf in names if privacy.is_small(leaves[leaf])]
    # Pivot on the larger leaves first: the rows left with a pivot among small leaves span what is known of them alone.
    order = [column[leaf] for leaf in names if leaf not in small] + [column[leaf] for leaf in small]
    rows = [[1 if leaf in cells else 0 for leaf in names] for cells in published]
    alone = [base for pivot, base in _reduced_rows(rows, order) if names[pivot] in small]
    found = []
    for size in range(1, 5):
        for group in itertools.combinations(small, size):
            if alone and sum(leaves[leaf] for leaf in group) < privacy.MIN_GROUP:
                target = [1 if leaf in group else 0 for leaf in names]
                if not any(_reduced_rows([*alone, target], order)[len(alone) :]):
                    found.append(group)
    return found


def leaves_in(cell, leaves):
    return frozenset(leaf for leaf in leaves if all(part is ALL or part == value for part, value in zip(cell, leaf, strict=True)))


ORGANISATIONS = st.dictionaries(
    st.tuples(st.sampled_from(["Lyon", "Nice", "Paris"]), st.sampled_from(["Claims", "Sales", "IT"]), st.sampled_from(["under 30", "30-44", "unknown"])),
    st.one_of(st.integers(1, 4), st.integers(5, 14)),
    min_size=1,
    max_size=14,
)


@settings(max_examples=120, deadline=None)
@given(ORGANISATIONS)
def test_no_group_of_one_to_four_learners_follows_from_every_cell_shown_in_every_view(leaves):
    pattern = privacy.suppression_pattern(leaves)
    shown = [leaves_in(cell, leaves) for cell in pattern.sizes if cell not in pattern.hidden]
    assert derivable_small_groups(leaves, shown) == []
    assert all(cell in pattern.hidden for cell, n in pattern.sizes.items() if privacy.is_small(n))


@settings(max_examples=120, deadline=None)
@given(ORGANISATIONS)
def test_the_groups_a_breakdown_hides_are_never_a_small_group_together(leaves):
    pattern = privacy.suppression_pattern(leaves)
    for total in (cell for cell in pattern.sizes if ALL in cell and cell not in pattern.hidden):
        for dimension in (d for d, part in enumerate(total) if part is ALL):
            rows = [cell for cell in pattern.sizes if cell[dimension] is not ALL and all(c == t for d, (c, t) in enumerate(zip(cell, total, strict=True)) if d != dimension)]
            assert not privacy.is_small(sum(pattern.size(row) for row in rows if row in pattern.hidden)), (total, dimension)


LEARNERS = st.lists(
    st.tuples(st.sampled_from(["Lyon", "Nice"]), st.sampled_from(["Claims", "Sales"]), st.integers(0, 3)),  # site, department, day
    max_size=30,
)
DAYS = [None, *(date(2026, 1, 1) + timedelta(days=n) for n in range(4))]
VIEWS = [
    stats.Filters(date_from=start, date_to=end, site=site, department=department)
    for site in (None, "Lyon", "Nice")
    for department in (None, "Claims", "Sales")
    for start in DAYS
    for end in DAYS
    if not (start and end and start > end)
]


def _base(learners, view):
    """How many learners started something in the view: the base of a row of the learning tables."""
    first = date(2026, 1, 1)
    return sum(
        1
        for site, department, day in learners
        if view.site in (None, site)
        and view.department in (None, department)
        and (view.date_from is None or first + timedelta(days=day) >= view.date_from)
        and (view.date_to is None or first + timedelta(days=day) <= view.date_to)
    )


FILTERS = ("site", "department", "date_from", "date_to")


def _holds(wider, narrower):
    return all(getattr(wider, name) in (None, getattr(narrower, name)) for name in FILTERS)


@settings(max_examples=60, deadline=None)
@given(LEARNERS)
def test_two_nested_views_that_both_show_a_row_never_differ_by_a_small_group(learners):
    bases = {view: _base(learners, view) for view in VIEWS}
    shown = [
        view for view in VIEWS if privacy.row_marker([bases[view]], [_base(learners, wider) - bases[view] for wider in privacy.wider_views(view, FILTERS)]) is None
    ]
    for narrower, wider in itertools.product(shown, shown):
        if narrower != wider and _holds(wider, narrower):
            assert not privacy.is_small(bases[wider] - bases[narrower]), (wider, narrower)
