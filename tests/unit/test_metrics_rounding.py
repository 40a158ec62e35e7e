"""Disclosure control's rounding, over every small distribution: neighbouring multiples, totals that solve nothing."""

from __future__ import annotations

from itertools import product

from tabular.services.metrics import CONTROLLED, EXACT, round_to, round_together

BASE = CONTROLLED.base
DISTRIBUTIONS = [list(counts) for size in range(1, 5) for counts in product(range(10), repeat=size)]
"""Every distribution of one to four counts of 0-9 (each remainder twice): small counts need protecting."""


def test_round_to_the_nearest_multiple() -> None:
    assert [round_to(count, BASE) for count in range(13)] == [0, 0, 0, 5, 5, 5, 5, 5, 10, 10, 10, 10, 10]
    assert [round_to(count, EXACT.base) for count in range(13)] == list(range(13))


def test_each_count_goes_to_a_neighbouring_multiple_and_they_add_up_to_the_rounded_total() -> None:
    for counts in DISTRIBUTIONS:
        shown = round_together(counts, BASE)
        assert sum(shown) == round_to(sum(counts), BASE), counts
        for count, rounded in zip(counts, shown, strict=True):
            assert rounded % BASE == 0, counts
            assert count - BASE < rounded < count + BASE, counts
        assert round_together(counts, EXACT.base) == counts


def test_no_count_shown_is_solved_by_the_others_and_the_total() -> None:
    """Whatever is shown, each count could have been any value within 2 of it (0-2 for a 0): set the others to
    what they show and that count to such a value, and the same distribution is shown."""
    for counts in DISTRIBUTIONS:
        shown = round_together(counts, BASE)
        for index, rounded in enumerate(shown):
            for exact in range(max(0, rounded - BASE // 2), rounded + BASE // 2 + 1):
                other_world = [*shown[:index], exact, *shown[index + 1 :]]
                assert round_together(other_world, BASE) == shown, (counts, index, exact)
