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


def counting(fails):  # type: ignore[no-untyped-def]
    """The oracle, and every set it was asked about."""
    asked: list[tuple[str, ...]] = []

    def ask(sets: Sequence[tuple[str, ...]]) -> list[bool]:
        asked.extend(sets)
        return fails(sets)  # type: ignore[no-any-return]
    return ask, asked


HALVES = math.ceil(math.log2(len(TESTS))) + 1  # the halves, and the last test run alone


@pytest.mark.parametrize("polluter", ["t0000", "t1234", "t1999", "t0999", "t1000"])
@pytest.mark.parametrize("width", [1, 2, 4])
def test_one_polluter_is_found_by_halves_in_about_log2_n_runs_of_shrinking_sets(polluter: str, width: int) -> None:
    fails, asked = counting(oracle({polluter}))
    log = SearchLog()
    assert find_minimal_set(TESTS, fails, width=width, log=log) == (polluter,)
    assert log.queries == len(asked) <= HALVES
    assert sum(map(len, asked)) <= len(TESTS) + 1  # each run at most half the one before
    assert log.steps[-1].startswith(f"halves: {polluter} is enough alone, found among 2000 test(s)")


@pytest.mark.parametrize("polluters", [{"t0007", "t1500"}, {"t0100", "t0101"}, {"t0001", "t0900", "t1800"},
                                       {"t1998", "t1999"}])
@pytest.mark.parametrize("width", [1, 2, 4])
def test_polluters_needed_together_are_found_by_prefixes_after_the_halves(polluters: set[str], width: int) -> None:
    log = SearchLog()
    found = find_minimal_set(TESTS, oracle(polluters), width=width, log=log)
    assert set(found) == polluters
    assert list(found) == sorted(found)  # original order kept
    assert any(step.startswith("halves: no single test is enough") for step in log.steps)
    rounds_per_element = math.ceil(math.log(len(TESTS), width + 1)) + 1
    assert log.queries <= HALVES + len(polluters) * rounds_per_element * width + len(polluters)


def test_conjunction_of_two_within_four_log2_n_runs() -> None:
    log = SearchLog()
    find_minimal_set(TESTS, oracle({"t0300", "t1700"}), width=1, log=log)
    assert log.queries <= 4 * math.log2(len(TESTS))


def test_the_same_set_is_never_asked_twice() -> None:
    fails, asked = counting(oracle({"t0007", "t1500"}))
    find_minimal_set(TESTS, fails, width=2)
    assert len(asked) == len(set(asked))


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


def test_no_candidates_is_a_search_that_stops_without_asking() -> None:
    fails, asked = counting(oracle({"t0001"}))
    with pytest.raises(SearchExhausted, match=r"^the victim passes after no test at all$"):
        find_minimal_set([], fails, width=2)
    assert asked == []


def test_a_conjunction_led_by_the_first_candidate_ends_when_the_candidates_run_out() -> None:
    # The last member needed is the first candidate: nothing is left to search, and the check that
    # the members found are enough is the question that found it, answered from memory.
    fails, asked = counting(oracle({"t0000", "t1500"}))
    log = SearchLog()
    assert find_minimal_set(TESTS, fails, width=2, log=log) == ("t0000", "t1500")
    assert log.steps[-2:] == ["needed: t0000 (shortest failing prefix of 1500)", "2 test(s) together are enough"]
    assert asked.count(("t0000", "t1500")) == 1 and len(asked) == len(set(asked)) == log.queries
