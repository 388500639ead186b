"""Child-side pytest plugin: loaded only in children that wsdoctor starts.

It runs inside the user's interpreter, so it imports only pytest and the
standard library and must work with pytest 7.0+ on Python 3.9+.

Protocol with the parent (all files live in ``--wsdoctor-out``):

* ``ids.txt`` (input, optional, ``--wsdoctor-ids``): node ids, one a line, in
  the order to run them; tests not listed are deselected.
* ``events.jsonl`` (output): one JSON object a line, flushed as it happens:
  ``collected``, ``start`` and ``test`` events, so a crash or a hang loses
  nothing that was already known and the parent can show progress (an xdist
  controller, which collects nothing, says its workers' number of tests in a
  ``total`` event); last, a ``finished`` event with the exit code, the
  environment and the warnings.
* ``report.json`` (output): pytest-json-report's format, plus a ``wsdoctor``
  key with the order that actually ran and the environment's versions.
* ``hang.txt`` (output): faulthandler's dump when a test overran its deadline, when
  collecting one file (or loading a conftest) overran the collection deadline, or when the
  process did not exit within the test deadline after its session finished (a thread that
  never ends keeps it alive: the ``finished`` event lists the non-daemon threads still there).
"""

from __future__ import annotations

import copy
import faulthandler
import json
import os
import platform
import random
import sys
import threading
import time
from typing import IO, Any

import pytest

from wsdoctor.child.protocol import (
    AWAIT_OPTION,
    EVENTS_FILE,
    HANG_FILE,
    REPORT_FILE,
    WORKER_EVENTS,
    WORKER_HANG,
    from_id_line,
    keep_ends,
)
from wsdoctor.child.reaper import watch_parent


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("wsdoctor", "wsdoctor child (internal)")
    group.addoption("--wsdoctor-out", dest="wsdoctor_out", default=None,
                    help="directory for wsdoctor's result files")
    group.addoption("--wsdoctor-ids", dest="wsdoctor_ids", default=None,
                    help="file of node ids to run, in order")
    group.addoption("--wsdoctor-timeout", dest="wsdoctor_timeout", type=float,
                    default=0.0, help="per-test deadline in seconds (0: none); also the time the process "
                                      "has to exit after its session")
    group.addoption("--wsdoctor-collect-timeout", dest="wsdoctor_collect_timeout", type=float,
                    default=0.0, help="deadline in seconds for collecting one file or loading a conftest (0: none)")
    group.addoption("--wsdoctor-probe", dest="wsdoctor_probe", action="store_true", default=False,
                    help="record which process-global state each test and each import changed")
    group.addoption("--wsdoctor-shuffle", dest="wsdoctor_shuffle", type=int, default=None,
                    help="without --wsdoctor-ids: run what was collected shuffled with this seed")
    group.addoption("--wsdoctor-until", dest="wsdoctor_until", default=None,
                    help="without ids: run the collection order up to this node id, and no further")
    group.addoption("--wsdoctor-paths", dest="wsdoctor_paths", default=None,
                    help="file of paths, one a line: collect only these (for paths pytest's command "
                         "line cannot name)")
    group.addoption("--wsdoctor-collect-only", dest="wsdoctor_collect_only", action="store_true", default=False,
                    help="collect and run nothing (pytest's --collect-only, asked for by wsdoctor itself)")
    group.addoption(AWAIT_OPTION, dest="wsdoctor_await", type=int, default=None,
                    help="a child started ahead: read the rest of the command line (a JSON list) from this "
                         "descriptor before the first conftest.py is loaded")


# Frames kept of where each coroutine was created: a "never awaited" warning then names the test
# that made the coroutine, not the one the garbage collector happened to run in. Enough for the
# test's own frame under a few frames of the project's code; the cost is paid per coroutine created.
COROUTINE_ORIGIN_DEPTH = 10


class Deadline:
    """faulthandler's timer: past it, every thread's stack goes to hang.txt and the process ends.

    Arming starts and joins a watchdog thread: doing it for every test costs more than the test
    itself in a suite of quick tests, so it is re-armed at most once a second, with a second to
    spare: each test (or file) still gets its full deadline.
    """

    def __init__(self, path: str) -> None:
        # Stays open to the end of the process: faulthandler writes to its descriptor.
        self.file: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115
        self.armed_at = float("-inf")

    def arm(self, seconds: float) -> None:
        now = time.monotonic()
        if seconds > 0 and now - self.armed_at >= 1.0:
            faulthandler.dump_traceback_later(seconds + 1.0, exit=True, file=self.file)
            self.armed_at = now

    def cancel(self) -> None:
        faulthandler.cancel_dump_traceback_later()
        self.armed_at = float("-inf")


_DEADLINE = pytest.StashKey[Deadline]()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config: Any, parser: Any, args: Any) -> Any:
    """The collection deadline starts before the first conftest.py is imported."""
    control = getattr(early_config.known_args_namespace, "wsdoctor_await", None)
    if control is not None:
        _take_the_rest_of_the_command_line(early_config, parser, args, control)
    options = early_config.known_args_namespace
    out = getattr(options, "wsdoctor_out", None)
    if out:
        watch_parent()  # from here on, this child ends with wsdoctor
        os.makedirs(out, exist_ok=True)
        deadline = early_config.stash[_DEADLINE] = Deadline(os.path.join(out, HANG_FILE))
        deadline.arm(float(getattr(options, "wsdoctor_collect_timeout", 0.0) or 0.0))
    yield


def _take_the_rest_of_the_command_line(early_config: Any, parser: Any, args: list[str], control: int) -> None:
    """A child started ahead has paid for everything its command line's shared part decides (the
    interpreter, pytest, the installed plugins, the ini file) before it was wanted. Here, before
    any of the project's conftest.py files, it waits for its own part: where it writes, which tests
    and paths it runs; those decide which conftest.py files load first, as they would have on its
    command line. Nothing (wsdoctor ended, or does not want it): it ends."""
    with open(control, "rb") as pipe:
        request = pipe.read()
    if not request:
        os._exit(0)
    args.extend(json.loads(request.decode("utf-8")))  # the list pytest parses its options from next
    early_config.known_args_namespace = parser.parse_known_args(
        args, namespace=copy.copy(early_config.known_args_namespace))


# Options that stop a session early, run no test, pick tests from an earlier run's cache, wait for a
# debugger (--trace "passes" every test without running it) or only show something: the parent
# refuses them after `--`; from the addopts or PYTEST_ADDOPTS they are switched off here, before any
# plugin acts on them, as every test the parent asked for must run and report its own outcome.
SWITCHED_OFF: dict[str, Any] = {
    "maxfail": 0, "stepwise": False, "stepwise_skip": False, "lf": False, "setuponly": False, "setupplan": False,
    "usepdb": False, "trace": False, "showfixtures": False, "show_fixtures_per_test": False, "markers": False,
    "help": False, "version": 0, "cacheshow": False,
}


@pytest.hookimpl(hookwrapper=True)
def pytest_cmdline_main(config: Any) -> Any:
    if config.getoption("wsdoctor_out"):
        for name, value in SWITCHED_OFF.items():
            if hasattr(config.option, name):
                setattr(config.option, name, value)
        config.option.collectonly = config.getoption("wsdoctor_collect_only")
    yield


def pytest_configure(config: Any) -> None:
    out = config.getoption("wsdoctor_out")
    if not out:
        return
    if sys.get_coroutine_origin_tracking_depth() < COROUTINE_ORIGIN_DEPTH:
        sys.set_coroutine_origin_tracking_depth(COROUTINE_ORIGIN_DEPTH)
    paths = config.getoption("wsdoctor_paths")
    if paths:
        config.pluginmanager.register(PathFilter(read_ids(paths)), "wsdoctor-paths")
    worker = getattr(config, "workerinput", None)
    if worker is not None:  # an xdist worker of a child that runs the suite as the project does
        recorder: Any = WorkerRecorder(config, out, str(worker["workerid"]))
        config.pluginmanager.register(recorder, "wsdoctor-worker")
    else:
        xdist = _xdist_setting(config)
        # An ids file is one process's order: `-n` would scatter it. The suite order, and a
        # shuffled one (every worker shuffles its collection alike), run as the project runs them.
        keep = xdist is not None and not config.getoption("wsdoctor_ids") and not config.getoption("collectonly")
        if xdist is not None and not keep:
            _disable_xdist(config)
        recorder = ChildRecorder(config, out, dict(xdist, used=keep) if xdist else None)
        config.pluginmanager.register(recorder, "wsdoctor-recorder")
        if keep:
            return  # the controller runs no test: the workers probe and keep the deadline
    if config.getoption("wsdoctor_probe"):
        config.pluginmanager.register(StateRecorder(config, recorder), "wsdoctor-probes")


def _xdist_setting(config: Any) -> dict[str, Any] | None:
    """The project's pytest-xdist distribution (its addopts or arguments), if any."""
    tx = getattr(config.option, "tx", None)
    dist = getattr(config.option, "dist", "no")
    if not tx or dist == "no":
        return None
    return {"workers": len(tx), "dist": dist}


def _disable_xdist(config: Any) -> None:
    config.option.numprocesses = 0
    config.option.dist = "no"
    config.option.tx = []


def read_ids(path: str) -> list[str]:
    # surrogateescape: a file name that is not UTF-8 comes back as the node id pytest makes of it
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        return [from_id_line(line) for line in handle if line.strip()]


class PathFilter:
    """Collects only the listed files and directories: everything else under the directory given on
    the command line is ignored, as if the listed paths had been given instead."""

    def __init__(self, paths: list[str]) -> None:
        self.wanted = {os.path.abspath(p) for p in paths}
        self.ancestors = {os.path.dirname(p) for p in self.wanted}
        for path in list(self.ancestors):
            while os.path.dirname(path) != path:
                path = os.path.dirname(path)
                self.ancestors.add(path)

    def pytest_ignore_collect(self, collection_path: Any, config: Any) -> Any:
        path = str(collection_path)
        if path in self.wanted or path in self.ancestors:
            return None  # no opinion: the user's own ignores still apply
        if any(path.startswith(wanted + os.sep) for wanted in self.wanted):
            return None
        return True


# Records hold no cycles: not checking for them saves a quarter of the encoding time.
_encode = json.JSONEncoder(check_circular=False).encode


def write_json_atomic(path: str, data: dict[str, Any]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(_encode(data))  # one C-encoded string: json.dump streams in Python
    os.replace(tmp, path)


def order_items(items: list[Any], wanted: list[str]) -> tuple[list[Any], list[Any], list[str]]:
    """Items in the wanted order, the deselected rest, and wanted ids not collected."""
    by_id = {item.nodeid: item for item in items}
    chosen, missing, seen = [], [], set()
    for nodeid in wanted:
        if nodeid in seen:
            continue
        seen.add(nodeid)
        if nodeid in by_id:
            chosen.append(by_id[nodeid])
        else:
            missing.append(nodeid)
    rest = [item for item in items if item.nodeid not in seen]
    return chosen, rest, missing


# Versions that decide which advice applies (see the playbooks' version guards).
WATCHED_PACKAGES = ("pytest-asyncio", "websockets", "starlette", "httpx", "fakeredis", "anyio",
                    "pytest-randomly", "pytest-xdist")


def _package_versions() -> dict[str, str]:
    from importlib import metadata

    found = {}
    for name in WATCHED_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _location(item: Any) -> dict[str, Any]:
    path, lineno, _ = item.location
    return {"nodeid": item.nodeid, "path": str(getattr(item, "path", getattr(item, "fspath", path))),
            "lineno": lineno}


class TextBudget:
    """What a child keeps of the text tests produce (captured output, failure reports, warnings):
    each text its head and tail with a note of what was dropped between them, and once the child
    has kept CHILD_BUDGET characters, much less of each. A test printing 200 MB then costs the
    parent and the disk a few kilobytes; both ends survive, which is where a dump says what it is."""

    FIELD = 16_000  # characters kept at each end of one text
    SPENT_FIELD = 1_000  # ... once the child's budget is spent
    CHILD_BUDGET = 8_000_000

    def __init__(self) -> None:
        self.kept = 0

    def cut(self, text: str) -> str:
        text = keep_ends(text, self.FIELD if self.kept < self.CHILD_BUDGET else self.SPENT_FIELD)
        self.kept += len(text)
        return text


def _fileloc(loc: Any, budget: TextBudget) -> dict[str, Any]:
    return {"path": loc.path, "lineno": loc.lineno, "message": budget.cut(str(loc.message))}


def _stage(report: Any, budget: TextBudget) -> dict[str, Any]:
    stage: dict[str, Any] = {"duration": report.duration, "outcome": report.outcome}
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        stage["crash"] = _fileloc(crash, budget)
        entries = getattr(getattr(report.longrepr, "reprtraceback", None), "reprentries", [])
        stage["traceback"] = [_fileloc(e.reprfileloc, budget) for e in entries
                              if getattr(e, "reprfileloc", None) is not None]
    for key, section in (("stdout", "stdout"), ("stderr", "stderr"), ("log", "log")):
        # This stage's own output: report.capstdout would repeat earlier stages' too.
        text = "".join(content for name, content in report.sections
                       if name == f"Captured {section} {report.when}")
        if text:
            stage[key] = budget.cut(text)
    if report.longrepr:
        stage["longrepr"] = budget.cut(report.longreprtext)
    return stage


STAGES = ("setup", "call", "teardown")


class ChildRecorder:
    """Records collection and test results into the output directory."""

    def __init__(self, config: Any, out: str, xdist: dict[str, Any] | None = None) -> None:
        self.config = config
        self.out = out
        self.xdist = xdist  # the project's distribution, and whether this child uses it
        distributed = bool(xdist and xdist["used"])
        # Distributed, the workers keep the deadline: this process (the controller) runs no test.
        self.timeout = 0.0 if distributed else float(config.getoption("wsdoctor_timeout") or 0.0)
        ids_file = config.getoption("wsdoctor_ids")
        self.wanted: list[str] | None = read_ids(ids_file) if ids_file else None
        self.shuffle_seed: int | None = config.getoption("wsdoctor_shuffle")
        self.until: str | None = config.getoption("wsdoctor_until")
        os.makedirs(out, exist_ok=True)
        # Both stay open for the whole session; the OS closes them if the process dies.
        self.events: IO[str] = open(os.path.join(out, EVENTS_FILE), "a", encoding="utf-8")  # noqa: SIM115
        self.deadline = config.stash.get(_DEADLINE, None) or Deadline(os.path.join(out, HANG_FILE))
        self.collect_timeout = float(config.getoption("wsdoctor_collect_timeout") or 0.0)
        self.started = time.time()
        self.collectors: list[dict[str, Any]] = []
        self.tests: dict[str, dict[str, Any]] = {}
        self.done: list[dict[str, Any]] = []  # the tests whose protocol finished: only they have an outcome
        self.warnings: list[dict[str, Any]] = []
        self.order: list[str] = []
        self.missing: list[str] = []
        self.deselected = 0
        if xdist is not None:
            self.emit("xdist", **xdist)
        if distributed:  # the controller collects nothing: the workers keep the deadlines
            self.deadline.cancel()
        self.stopped: str | None = None  # why the session ended before its tests did
        self.total_said = False  # distributed: the number of tests, said once
        self.budget = TextBudget()
        self.thread_count = threading.active_count()
        self.thread_origins = {thread.ident: "" for thread in threading.enumerate()}  # ident: the test that started it

    def emit(self, event: str, flush: bool = True, **fields: Any) -> None:
        fields["event"] = event
        self.events.write(_encode(fields) + "\n")
        if flush:
            self.events.flush()

    def pytest_sessionstart(self, session: Any) -> None:
        if self.wanted is not None or self.shuffle_seed is not None:
            # An order wsdoctor gives changes file at almost every test when it is shuffled: pytest
            # would start a line with the file's name each time (2,000 lines for 2,000 tests, a few
            # per cent of the child's time); its dots and percentages go on one line, as with -q.
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.showfspath = False

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """On the controller of a distributed run, which collects nothing: how many tests the workers
        run, once, for the parent's progress (done / total)."""
        if not self.total_said:
            self.total_said = True
            self.emit("total", tests=len(ids))

    def pytest_collectstart(self, collector: Any) -> None:
        if isinstance(collector, pytest.File):  # the import to blame if collection hangs from here
            self.deadline.arm(self.collect_timeout)
            self.emit("collecting", nodeid=collector.nodeid, path=str(collector.path))

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            entry = {"nodeid": report.nodeid, "outcome": report.outcome,
                     "longrepr": self.budget.cut(str(report.longrepr)), "result": []}
            self.collectors.append(entry)
            self.emit("collect-error", nodeid=report.nodeid, longrepr=entry["longrepr"])

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: Any, items: list[Any]) -> None:
        if self.wanted is not None:
            chosen, rest, self.missing = order_items(items, self.wanted)
            if rest:
                config.hook.pytest_deselected(items=rest)
            self.deselected = len(rest)
            items[:] = chosen
        elif self.shuffle_seed is not None:  # as the parent's planner shuffles the collection order
            random.Random(self.shuffle_seed).shuffle(items)
        self.deadline.cancel()  # collection is over: each test arms its own deadline
        self.emit("collected", items=[_location(item) for item in items],
                  missing=self.missing, deselected=self.deselected,
                  rootdir=str(config.rootpath), pid=os.getpid(),
                  inifile=str(config.inipath) if config.inipath else None)
        if self.wanted is None and self.until is not None:  # the whole collection is said; this much runs
            ids = [item.nodeid for item in items]
            end = ids.index(self.until) + 1 if self.until in ids else 0
            if items[end:]:
                config.hook.pytest_deselected(items=items[end:])
            self.deselected = len(items) - end
            items[:] = items[:end]

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self.order.append(nodeid)
        # Flushing here also writes the previous test's event: a crash in this test
        # still finds every finished test on disk. Spelled out: it is written for every test.
        self.events.write('{"nodeid": ' + _encode(nodeid) + ', "event": "start"}\n')
        self.events.flush()
        self.deadline.arm(self.timeout)

    def pytest_runtest_logreport(self, report: Any) -> None:
        entry = self.tests.get(report.nodeid)
        if entry is None:
            entry = self.tests[report.nodeid] = {
                "nodeid": report.nodeid, "lineno": report.location[1], "outcome": "passed", "keywords": []}
        if report.when not in STAGES:  # xdist: the worker died under this test, and no stage will finish it
            entry["call"] = {"duration": 0.0, "outcome": "failed", "longrepr": self.budget.cut(report.longreprtext)}
            entry["outcome"] = "crash"
            self.pytest_runtest_logfinish(report.nodeid, report.location)
            return
        if report.passed and not report.sections and not hasattr(report, "wasxfail"):
            entry[report.when] = {"duration": report.duration, "outcome": "passed"}
            return  # the common case, kept cheap: nothing to change in the outcome
        entry[report.when] = _stage(report, self.budget)
        # pytest's own categories (as pytest-json-report uses them): a failed call
        # followed by a teardown error is an "error", an xfail is "xfailed".
        category = self.config.hook.pytest_report_teststatus(report=report, config=self.config)[0]
        if category not in ("passed", ""):
            entry["outcome"] = category

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        entry = self.tests.get(nodeid)
        if entry is not None:
            self.done.append(entry)
            self.emit("test", flush=False, test=entry)
        if threading.active_count() != self.thread_count:  # cheap; the threads are listed only on a change
            self.thread_count = threading.active_count()
            for thread in threading.enumerate():
                self.thread_origins.setdefault(thread.ident, nodeid)

    def _threads_left(self) -> list[dict[str, Any]]:
        """Non-daemon threads still alive: the interpreter waits for them before the process can exit."""
        return [{"name": thread.name, "ident": thread.ident, "started_by": self.thread_origins.get(thread.ident, "")}
                for thread in threading.enumerate()
                if not thread.daemon and thread is not threading.main_thread() and thread.is_alive()]

    def pytest_warning_recorded(self, warning_message: Any, when: str, nodeid: str,
                                location: Any) -> None:
        self.warnings.append({
            "message": self.budget.cut(str(warning_message.message)),
            "category": warning_message.category.__name__, "when": when,
            "filename": warning_message.filename, "lineno": warning_message.lineno,
            "nodeid": nodeid})

    def pytest_internalerror(self, excrepr: Any, excinfo: Any) -> None:
        self._stop("INTERNALERROR\n" + str(excrepr))

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        self._stop("interrupted: " + str(excinfo.exconly()))  # a test raised KeyboardInterrupt or called pytest.exit

    def _stop(self, why: str) -> None:
        if self.stopped is None and not self.events.closed:
            self.stopped = self.budget.cut(why)
            self.emit("stopped", why=why)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtestloop(self, session: Any) -> Any:
        yield
        self.deadline.cancel()  # the tests are over, whatever comes next

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:
        stop = session.shouldfail or session.shouldstop  # e.g. a plugin that ends the session early
        if stop and self.stopped is None:
            self._stop(f"stopped: {stop}")
        tests = self.done
        summary: dict[str, Any] = {}
        for test in tests:
            summary[test["outcome"]] = summary.get(test["outcome"], 0) + 1
        summary["total"] = len(tests)
        summary["collected"] = session.testscollected + self.deselected
        if self.deselected:
            summary["deselected"] = self.deselected
        environment = self._environment()
        write_json_atomic(os.path.join(self.out, REPORT_FILE), {
            "created": time.time(), "duration": time.time() - self.started,
            "exitcode": int(exitstatus), "root": str(self.config.rootpath),
            "environment": environment, "summary": summary,
            "collectors": self.collectors, "tests": tests, "warnings": self.warnings,
            "wsdoctor": {"order": self.order, "missing": self.missing, "pid": os.getpid()}})
        # What the parent needs of the report, so it need not parse the report again.
        self.emit("finished", exitcode=int(exitstatus), environment=environment,
                  warnings=self.warnings, tests=len(tests), stopped=self.stopped, threads=self._threads_left())
        self.events.close()
        # From here the process has the test deadline to exit: a thread that never ends would keep
        # it waiting for ever (threading._shutdown), after pytest's own summary said all is well.
        self.deadline.cancel()
        self.deadline.arm(self.timeout)

    def _environment(self) -> dict[str, Any]:
        plugins = sorted({f"{dist.project_name}-{dist.version}" for _, dist
                          in self.config.pluginmanager.list_plugin_distinfo()})
        return {"Python": platform.python_version(), "Platform": platform.platform(),
                "pytest": pytest.__version__, "Plugins": plugins,
                "executable": sys.executable, "Packages": _package_versions()}


class WorkerRecorder:
    """On an xdist worker: its own events file (events-<worker>.jsonl) with what it collected (in
    the child's shuffled order, when it has one), the order it ran, what each test left changed
    (with the state probes) and where it hung.

    The controller's ChildRecorder receives every test's report from the workers; what only a
    worker knows comes from here: the parent reads each worker's order as a suite order.
    """

    def __init__(self, config: Any, out: str, worker: str) -> None:
        self.config = config
        self.out = out
        self.worker = worker
        self.tests: dict[str, dict[str, Any]] = {}  # what StateRecorder attaches state changes to
        self.events: IO[str] = open(  # noqa: SIM115 - open for the session; the OS closes it
            os.path.join(out, WORKER_EVENTS.format(worker=worker)), "a", encoding="utf-8")
        self.deadline = Deadline(os.path.join(out, WORKER_HANG.format(worker=worker)))
        self.timeout = float(config.getoption("wsdoctor_timeout") or 0.0)

    def emit(self, event: str, flush: bool = True, **fields: Any) -> None:
        fields["event"] = event
        self.events.write(_encode(fields) + "\n")
        if flush:
            self.events.flush()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: Any, items: list[Any]) -> None:
        seed = config.getoption("wsdoctor_shuffle")
        if seed is not None:  # every worker alike: xdist requires the same collection on each
            random.Random(seed).shuffle(items)
        self.emit("collected", items=[_location(item) for item in items], missing=[], deselected=0,
                  rootdir=str(config.rootpath), pid=os.getpid(),
                  inifile=str(config.inipath) if config.inipath else None)

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self.tests[nodeid] = {"nodeid": nodeid}
        self.emit("start", nodeid=nodeid)
        self.deadline.arm(self.timeout)

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        entry = self.tests.pop(nodeid, {})
        self.emit("done", nodeid=nodeid, state_changes=entry.get("state_changes", []))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtestloop(self, session: Any) -> Any:
        yield
        self.deadline.cancel()

    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:
        self.events.close()


def _pytest_path_insertion(change: list[Any], collector: Any) -> bool:
    """pytest's own sys.path insertion of a test file's directory (rootdir-relative imports)."""
    key, before, _ = change
    if not key.startswith("sys.path:") or before is not None:
        return False
    path = str(getattr(collector, "path", getattr(collector, "fspath", "")))
    return bool(path) and (path + os.sep).startswith(key[len("sys.path:"):].rstrip(os.sep) + os.sep)


DEEP_FILE_WATCH_UP_TO = 60  # tests in a run whose files are stat'ed one by one after every test


def _net(changes: list[list[Any]]) -> list[list[Any]]:
    """Changes seen in parts (before a fixture's, and after) as one: a value changed and put back
    within the test is no change."""
    merged: dict[str, list[Any]] = {}
    for key, before, after in changes:
        if key in merged:
            merged[key][2] = after
        else:
            merged[key] = [key, before, after]
    return [change for change in merged.values() if change[1] != change[2]]


class StateRecorder:
    """Attributes changes of process-global state to the collector or test that made them.

    One snapshot per test: the state after one test is the state before the next. The
    running test's own module is part of it, looked at first when its first test starts.
    """

    def __init__(self, config: Any, recorder: ChildRecorder) -> None:
        from wsdoctor.child.first_imports import FirstImports
        from wsdoctor.child.snapshot import StateProbe, diff, with_baselines

        self._diff, self._with_baselines = diff, with_baselines  # imported once: this runs for every test
        self.config = config
        self.recorder = recorder
        own = (config.getoption("basetemp"), recorder.out)  # pytest's tmp_path and wsdoctor's files: not state
        self.probe = StateProbe(str(config.rootpath), skipped_files=tuple(str(p) for p in own if p))
        self.last = self.probe.snapshot()
        self.module: Any = None
        self.parent: Any = None  # of the last test: a new one may be in another module
        self.baselines: dict[str, str] = {}  # modules first imported since the last snapshot, right after
        self.pending: list[list[Any]] = []  # the running test's changes, seen before a fixture's own
        self.first_imports = FirstImports(self.probe.is_project_module_file, self._imported)
        self.first_imports.install()

    def _imported(self, names: list[str]) -> None:
        """The outermost import of project modules ended: their state now is their baseline."""
        if threading.current_thread() is threading.main_thread():  # snapshots are the main thread's
            for key, value in self.probe.baseline(names).items():
                self.baselines.setdefault(key, value)

    def changes_since_last(self) -> list[list[Any]]:
        now = self.probe.snapshot(self.module)
        changes = [list(change) for change in self._diff(self._with_baselines(self.last, self.baselines), now)]
        self.last = now
        self.baselines = {}
        return changes

    def pytest_unconfigure(self, config: Any) -> None:
        self.first_imports.uninstall()

    def pytest_collection_finish(self, session: Any) -> None:
        self.probe.watch_files_deeply(len(session.items) <= DEEP_FILE_WATCH_UP_TO)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: Any) -> None:
        if item.parent is not self.parent:
            self.parent = item.parent
            module = getattr(item, "module", None)
            if module is not self.module:  # its globals as they are before its first test
                self.module = module
                self.last = self.probe.with_test_module(self.last, module)

    @pytest.hookimpl(tryfirst=True)  # before the recorder writes the test's event
    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        changes, self.pending = _net(self.pending + self.changes_since_last()), []
        entry = self.recorder.tests.get(nodeid)
        if entry is not None:
            entry["state_changes"] = changes

    # A fixture of a broader scope than the test (a session fixture that points HOME at a temporary
    # directory) changes state on behalf of many tests: what its setup and teardown change is its
    # own, not the test's during which it happened.

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any) -> Any:
        if fixturedef.scope == "function":
            yield
            return
        self.pending += self.changes_since_last()
        yield
        self._emit_fixture_changes(f"fixture {fixturedef.argname}")
        # Finalizers run last-added first: this one runs before the fixture's own teardown.
        fixturedef.addfinalizer(lambda: self.pending.extend(self.changes_since_last()))

    def pytest_fixture_post_finalizer(self, fixturedef: Any, request: Any) -> None:
        if fixturedef.scope != "function":
            self._emit_fixture_changes(f"fixture {fixturedef.argname} (teardown)")

    def _emit_fixture_changes(self, name: str) -> None:
        changes = self.changes_since_last()
        if changes:
            self.recorder.emit("import-changes", nodeid=name, changes=changes)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_make_collect_report(self, collector: Any) -> Any:
        yield
        if isinstance(collector, pytest.Class):
            return  # imports nothing: what changed since is the next collector's
        changes = [c for c in self.changes_since_last() if not _pytest_path_insertion(c, collector)]
        if changes:
            self.recorder.emit("import-changes", nodeid=collector.nodeid, changes=changes)
