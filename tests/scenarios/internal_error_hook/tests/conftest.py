"""Sends every test outcome to the team's flaky-test dashboard, grouped by module.

Written when every test was a module-level function: "path::name" was assumed to have
exactly two parts.
"""

RESULTS: dict[str, dict[str, str]] = {}


def pytest_runtest_logreport(report):
    module, test = report.nodeid.split("::")  # ValueError for "path::Class::name"
    RESULTS.setdefault(module, {})[test] = report.outcome


def pytest_sessionfinish(session):
    session.config.stash_dashboard = RESULTS  # uploaded by CI from here
