"""The polluter search against fake oracles: the seam where the search meets processes."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from wsdoctor.analysis.search import SearchExhausted, SearchLog, find_minimal_set

TESTS = [f"t{i:04d}" for i in range(2000)]


def oracle(polluters: set[str], cleaners: Sequence[str] = ()):  # type: ignore[no-untyped-def]
    """The victim fails when every polluter ran and no cleaner ran after the last of them."""
    def fails(sets: Sequence[tuple[str, ...]]) -> list[bool]:
        answers = []
        for chosen in sets:
            polluted = polluters <= set(chosen)
            last = max((chosen.index(p) for p in polluters if p in chosen), default=-1)
            cleaned = any(c in chosen[last + 1:] for c in cleaners)
            answers.append(polluted and not cleaned)
        return answers
    return fails


@pytest.mark.parametrize("polluters", [{"t0000"}, {"t1234"}, {"t1999"}, {"t0007", "t1500"},
                                       {"t0100", "t0101"}, {"t0001", "t0900", "t1800"}])
@pytest.mark.parametrize("width", [1, 2, 4])
def test_finds_exactly_the_polluters(polluters: set[str], width: int) -> None:
    log = SearchLog()
    found = find_minimal_set(TESTS, oracle(polluters), width=width, log=log)
    assert set(found) == polluters
    assert list(found) == sorted(found)  # original order kept
    rounds_per_element = math.ceil(math.log(len(TESTS), width + 1)) + 1
    assert log.queries <= len(polluters) * rounds_per_element * width + len(polluters)


def test_conjunction_of_two_within_three_log2_n_runs() -> None:
    log = SearchLog()
    find_minimal_set(TESTS, oracle({"t0300", "t1700"}), width=1, log=log)
    assert log.queries <= 3 * math.log2(len(TESTS))


def test_a_right_hint_costs_one_run() -> None:
    log = SearchLog()
    found = find_minimal_set(TESTS, oracle({"t1234"}), width=2, hints=["t0042", "t1234"], log=log)
    assert found == ("t1234",)
    assert log.queries == 2  # both suspects tried at once


def test_wrong_hints_fall_back_to_the_search() -> None:
    found = find_minimal_set(TESTS, oracle({"t1234"}), width=2, hints=["t0042", "t0043"])
    assert found == ("t1234",)


def test_hinted_suspects_that_fail_only_together_narrow_the_pool() -> None:
    log = SearchLog()
    found = find_minimal_set(TESTS, oracle({"t0010", "t1990"}), width=2,
                             hints=["t1990", "t0010", "t0500"], log=log)
    assert found == ("t0010", "t1990")
    assert log.queries < 12


def test_a_cleaner_after_the_polluter_does_not_hide_it() -> None:
    # t0500 pollutes, t0700 cleans, t1500 pollutes again: the full order fails.
    fails = oracle({"t1500"}, cleaners=["t0700"])
    assert find_minimal_set(TESTS, fails, width=2) == ("t1500",)


def test_a_failure_that_vanishes_is_reported_not_guessed() -> None:
    with pytest.raises(SearchExhausted):
        find_minimal_set(TESTS, lambda sets: [False] * len(sets), width=2)
