"""Arguments after `--` go to every child pytest: refuse those that change what runs or write reports.

wsdoctor gives every test a verdict from the runs it planned. An option that stops the session
early, runs nothing, picks tests from pytest's cache of an earlier run, waits for a debugger or
turns wsdoctor's plugin off would leave tests without an outcome (and a test that did not run is
never a pass); an option that writes a report would be overwritten by every child in turn.
Options that select tests the same way in every child (-k, -m, --deselect, --ignore) are fine.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from wsdoctor.exits import UsageError

_STOPS_EARLY = "it stops the session at a failure, so the tests after it would never run"
_RUNS_NOTHING = "it runs no test (run pytest itself for that)"
_FROM_CACHE = "it picks tests from pytest's cache of an earlier run, and each wsdoctor child has a cache of its own"
_DEBUGGER = "it waits for an interactive debugger, which wsdoctor's children cannot have"
_REPORT = ("every child would overwrite the file with its own part of the run; wsdoctor's results are in "
           "`--json FILE` and `wsdoctor report`")

REFUSED: dict[str, str] = {
    "-x": _STOPS_EARLY, "--exitfirst": _STOPS_EARLY, "--maxfail": _STOPS_EARLY,
    "--collect-only": _RUNS_NOTHING, "--co": _RUNS_NOTHING, "--collectonly": _RUNS_NOTHING,
    "--setup-only": _RUNS_NOTHING, "--setuponly": _RUNS_NOTHING, "--setup-plan": _RUNS_NOTHING,
    "--setupplan": _RUNS_NOTHING, "--fixtures": _RUNS_NOTHING, "--funcargs": _RUNS_NOTHING,
    "--cache-show": _RUNS_NOTHING,
    "--fixtures-per-test": _RUNS_NOTHING, "--markers": _RUNS_NOTHING, "--version": _RUNS_NOTHING,
    "-V": _RUNS_NOTHING, "--help": _RUNS_NOTHING, "-h": _RUNS_NOTHING,
    "--lf": _FROM_CACHE, "--last-failed": _FROM_CACHE, "--sw": _FROM_CACHE, "--stepwise": _FROM_CACHE,
    "--sw-skip": _FROM_CACHE, "--stepwise-skip": _FROM_CACHE,
    "--pdb": _DEBUGGER, "--trace": _DEBUGGER, "--pdbcls": _DEBUGGER,
    "--junitxml": _REPORT, "--junit-xml": _REPORT, "--json-report": _REPORT, "--json-report-file": _REPORT,
    "--report-log": _REPORT, "--result-log": _REPORT, "--resultlog": _REPORT, "--html": _REPORT,
    "--cov": _REPORT, "--cov-report": _REPORT,
}
# Short options that take a value (the rest of the word, or the next word): `-rxX` is not `-x`.
_SHORT_WITH_VALUE = frozenset("kmcprWon")
_LONG_WITH_VALUE = frozenset({"--deselect", "--ignore", "--ignore-glob", "--rootdir", "--basetemp",
                              "--confcutdir", "--override-ini", "--maxfail", "--pdbcls", "--junitxml",
                              "--junit-xml", "--json-report-file", "--report-log", "--html", "--cov",
                              "--cov-report", "--tb", "--durations", "--import-mode", "--capture"})
_OWN_PLUGIN = "wsdoctor"  # -p no:wsdoctor.child.plugin, or the names it registers (wsdoctor-recorder)


def check_pytest_args(args: Sequence[str]) -> None:
    """Refuse, in one line that says why, the first argument that would make a verdict a lie."""
    for option, value in _options(args):
        if option in REFUSED:
            raise UsageError(f"`-- {option}` cannot go to wsdoctor's children: {REFUSED[option]}; leave it out")
        if option == "-p" and value.replace(" ", "").startswith("no:" + _OWN_PLUGIN):
            raise UsageError(f"`-- -p {value}` would turn off wsdoctor's plugin in its children, and with it "
                             "every test's outcome; leave it out")


def _options(args: Sequence[str]) -> list[tuple[str, str]]:
    """Each option given, with its value ("" when it takes none), short option clusters split."""
    found: list[tuple[str, str]] = []
    words = iter(args)
    for word in words:
        if word == "--" or not word.startswith("-") or word == "-":
            continue
        if word.startswith("--"):
            name, has_value, value = word.partition("=")
            if name in _LONG_WITH_VALUE and not has_value:
                value = next(words, "")
            found.append((name, value))
            continue
        found += _short_cluster(word[1:], words)
    return found


def _short_cluster(letters: str, words: Iterator[str]) -> list[tuple[str, str]]:
    found = []
    for index, letter in enumerate(letters):
        if letter in _SHORT_WITH_VALUE:
            value = letters[index + 1:] or next(words, "")
            found.append((f"-{letter}", value))
            break
        found.append((f"-{letter}", ""))
    return found
