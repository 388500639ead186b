"""Advice in the user's own names, and warnings blamed on the test that caused them (fast layer).

Records are made by hand as a run or a bisect would have left them, stored where wsdoctor keeps
them, and reported by the command line in this process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import make_project
from tests.test_from_records import store
from wsdoctor.records import (
    BisectOptions,
    BisectRecord,
    BisectResult,
    ChildProcess,
    ChildStatus,
    CollectedTest,
    Collection,
    Context,
    Observation,
    Outcome,
    Plan,
    PlanResult,
    RecordStatus,
    RunOptions,
    RunRecord,
    Scope,
    StateChange,
    TestResult,
    TestVerdict,
    Verdict,
)

VICTIM = "tests/test_feed.py::test_one_subscriber"
POLLUTER = "tests/test_notify.py::test_notify_all"


def bisect_record(tmp_path: Path, leaks: tuple[StateChange, ...], message: str,
                  scope: Scope = Scope.TEST, polluter: str = POLLUTER) -> BisectRecord:
    collection = Collection(rootdir=str(tmp_path), inifile=None, tests=(
        CollectedTest(VICTIM, "tests/test_feed.py"), CollectedTest(POLLUTER, "tests/test_notify.py")))
    result = BisectResult(victim=VICTIM, verdict=Verdict.ORDER_DEPENDENT, summary="fails after its polluter",
                          polluters=(polluter,), scope=scope, leaked_state=leaks, trials=3,
                          failure=TestResult(VICTIM, Outcome.FAILED, message=message, longrepr=f"E   {message}"))
    return BisectRecord(id="20260101-000001-cccc", wsdoctor_version="0", cwd=str(tmp_path), created=1.0,
                        options=BisectOptions(victim=VICTIM), status=RecordStatus.COMPLETE,
                        collection=collection, result=result)


def reported(tmp_path: Path, wsdoctor_in_process) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    done = wsdoctor_in_process(tmp_path, "report", "--out", "report.json")
    assert done.exit_code == 0, done.stderr
    insights: list[dict[str, Any]] = json.loads((tmp_path / "report.json").read_text())["insights"]
    return insights


def test_the_singleton_advice_names_the_leaked_object_and_each_container(tmp_path: Path,
                                                                       wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"app/__init__.py": "", "app/notifications/__init__.py": "",
                            "app/notifications/registry.py": "registry = None\n"})
    name = "app.notifications.registry.registry"
    leaks = (StateChange("module-attr", f"{name}.channels", "dict len=0", "dict len=2 {'a': ...}", POLLUTER),
             StateChange("module-attr", f"{name}.by_user", "dict len=0", "dict len=1 {'u': ...}", POLLUTER))
    store(tmp_path, bisect_record(tmp_path, leaks, "assert 3 == 1"))
    [insight] = [i for i in reported(tmp_path, wsdoctor_in_process) if i["playbook"] == "singleton-container-leak"]
    solution = insight["solution"]
    assert "from app.notifications.registry import registry" in solution
    assert "    registry.channels.clear()\n    registry.by_user.clear()\n" in solution
    assert "app.ws" not in solution and "manager" not in solution
    assert "Here the object is `app.notifications.registry.registry`" in insight["cause"]


def test_the_sys_modules_advice_imports_the_victims_module_that_uses_the_stub(tmp_path: Path,
                                                                             wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"app/__init__.py": "", "app/relay/__init__.py": "",
                            "app/relay/client.py": "import websockets.asyncio.client\n",
                            "tests/test_feed.py": "from app.relay.client import connect\n"})
    leak = StateChange("sys.modules", "websockets", "module @7f", "MagicMock @7e", "tests/test_stub.py")
    store(tmp_path, bisect_record(tmp_path, (leak,), "No module named 'websockets.asyncio'; 'websockets' is not "
                                  "a package", Scope.FILE_IMPORT, "tests/test_stub.py"))
    insights = {i["playbook"]: i for i in reported(tmp_path, wsdoctor_in_process)}
    solution = insights["mock-module-not-a-package"]["solution"]
    assert 'sys.modules.pop("app.relay.client", None)' in solution
    assert 'types.ModuleType("websockets")' in solution and "app.socket_manager" not in solution
    check = insights["collection-time-side-effect"]["solution"]
    assert f"tests/test_stub.py::SomeTestOrClass {VICTIM} --deselect tests/test_stub.py" in check


def test_without_evidence_the_advice_uses_generic_names_and_states_no_fact(tmp_path: Path,
                                                                          wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    store(tmp_path, bisect_record(tmp_path, (), "assert 3 == 1"))
    [insight] = [i for i in reported(tmp_path, wsdoctor_in_process) if i["playbook"] == "singleton-container-leak"]
    assert "from your_app.module import shared_object" in insight["solution"]
    assert "Here the object is" not in insight["cause"]  # prose never states a generic name as a fact
    assert "Left by tests/test_notify.py::test_notify_all" not in insight["phenomenon"]  # nothing leaked


ORIGIN = ("RuntimeWarning: coroutine 'Connection.close' was never awaited\n"
          "Coroutine created at (most recent call last)\n"
          '  File "/venv/site-packages/_pytest/python.py", line 187, in pytest_pyfunc_call\n'
          "    result = testfunction(**testargs)\n"
          '  File "{root}/tests/test_a_admin.py", line 8, in test_close_deferred\n'
          "    connection.schedule_close()\n"
          '  File "{root}/app/connections.py", line 24, in schedule_close\n'
          "    coro = self.close(code)")
CREATOR, FREER = "tests/test_a_admin.py::test_close_deferred", "tests/test_c_memory.py::test_reset"


def run_with_warning(tmp_path: Path, warning: str) -> RunRecord:
    tests = (CollectedTest(CREATOR, "tests/test_a_admin.py"), CollectedTest(FREER, "tests/test_c_memory.py"))
    plan = Plan("suite", Context.SUITE, ("tests",), (CREATOR, FREER))
    results = (TestResult(CREATOR, Outcome.PASSED), TestResult(FREER, Outcome.PASSED, warnings=(warning,)))
    child = ChildProcess(ChildStatus.COMPLETED, 0, 0.1, "", (CREATOR, FREER))
    verdicts = tuple(TestVerdict(t.nodeid, Verdict.PASS, "passes everywhere",
                                 (Observation("suite", Context.SUITE, Outcome.PASSED),)) for t in tests)
    return RunRecord(id="20260101-000000-dddd", wsdoctor_version="0", cwd=str(tmp_path), created=1.0,
                     options=RunOptions(paths=(), pytest_args=(), python="python"), status=RecordStatus.COMPLETE,
                     collection=Collection(str(tmp_path), None, tests),
                     plan_results=(PlanResult(plan, results, (child,)),), verdicts=verdicts)


def test_a_never_awaited_coroutine_is_blamed_on_the_test_that_created_it(tmp_path: Path,
                                                                        wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    store(tmp_path, run_with_warning(tmp_path, ORIGIN.format(root=tmp_path)))
    [insight] = reported(tmp_path, wsdoctor_in_process)
    assert (insight["playbook"], insight["tests"]) == ("coroutine-never-awaited", [CREATOR])
    assert f"It was created at tests/test_a_admin.py:8, in {CREATOR}." in insight["phenomenon"]
    assert "pytest reported the warning under tests/test_c_memory.py::test_reset" in insight["phenomenon"]
    assert "Origin unknown" not in insight["phenomenon"]
    assert "async def test_close_deferred():" in insight["solution"]
    assert insight["evidence"][0]["warnings"] == ["RuntimeWarning: coroutine 'Connection.close' was never awaited"]


def test_without_its_origin_a_coroutine_warning_says_so_instead_of_guessing(tmp_path: Path,
                                                                           wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    store(tmp_path, run_with_warning(tmp_path, "RuntimeWarning: coroutine 'Connection.close' was never awaited"))
    [insight] = reported(tmp_path, wsdoctor_in_process)
    assert insight["tests"] == [FREER]
    assert "Origin unknown: pytest reported the warning under tests/test_c_memory.py::test_reset" in (
        insight["phenomenon"])
    assert "It was created at" not in insight["phenomenon"]


def test_a_mock_left_on_a_class_attribute_is_put_back_with_the_users_names(tmp_path: Path,
                                                                           wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"app/__init__.py": "", "app/packet.py": "import json\nclass Packet:\n    json = json\n"})
    leak = StateChange("class-attr", "app.packet.Packet.json", "module json", "MagicMock calls=2", POLLUTER)
    store(tmp_path, bisect_record(tmp_path, (leak,), "assert <MagicMock name='mock.dumps()' id='1'> == '2'"))
    [insight] = [i for i in reported(tmp_path, wsdoctor_in_process) if i["playbook"] == "mock-left-on-attribute"]
    assert "from app.packet import Packet" in insight["solution"]
    assert 'monkeypatch.setattr(Packet, "json", MagicMock())' in insight["solution"]
    assert 'monkeypatch.setattr(Packet, "json", Packet.json)' in insight["solution"]
    assert "def test_notify_all(monkeypatch):" in insight["solution"]
    assert "\\<MagicMock name='mock.dumps()' id='1'\\>" in insight["phenomenon"]


def test_a_mock_left_on_a_module_global_is_put_back_on_its_module(tmp_path: Path,
                                                                  wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"app/__init__.py": "", "app/broker.py": "client = None\n"})
    leak = StateChange("module-attr", "app.broker.client", "LocalBroker", "Mock calls=1", POLLUTER)
    store(tmp_path, bisect_record(tmp_path, (leak,), "assert <Mock name='mock.publish()' id='2'> == 1"))
    [insight] = [i for i in reported(tmp_path, wsdoctor_in_process) if i["playbook"] == "mock-left-on-attribute"]
    assert "import app.broker" in insight["solution"]
    assert 'monkeypatch.setattr(app.broker, "client", app.broker.client)' in insight["solution"]


def many_victims_run(tmp_path: Path, victims: list[str]) -> RunRecord:
    """A run whose order-dependent victims were all bisected to the same polluter and leak."""
    leak = StateChange("class-attr", "app.packet.Packet.json", "module json", "MagicMock calls=3", POLLUTER)
    tests = tuple(CollectedTest(v, v.split("::")[0]) for v in (POLLUTER, *victims))
    verdicts = tuple(TestVerdict(v, Verdict.ORDER_DEPENDENT, "fails in the suite order, passes alone",
                                 (Observation("suite", Context.SUITE, Outcome.FAILED, "assert x == y"),))
                     for v in victims)
    plan = Plan("suite", Context.SUITE, ("tests",), tuple(t.nodeid for t in tests))
    results = tuple(TestResult(v, Outcome.FAILED, message=f"assert <MagicMock id='{n}'> == '{n}'",
                               longrepr="E   assert ...") for n, v in enumerate(victims))
    bisects = tuple(BisectResult(victim=v, verdict=Verdict.ORDER_DEPENDENT, summary="fails after its polluter",
                                 polluters=(POLLUTER,), scope=Scope.TEST, leaked_state=(leak,), trials=3)
                    for v in victims)
    return RunRecord(id="20260101-000000-eeee", wsdoctor_version="0", cwd=str(tmp_path), created=1.0,
                     options=RunOptions(paths=(), pytest_args=(), python="python", bisect=True),
                     status=RecordStatus.COMPLETE, collection=Collection(str(tmp_path), None, tests),
                     plan_results=(PlanResult(plan, results, ()),), verdicts=verdicts, bisects=bisects)


def test_victims_of_one_cause_are_one_insight_listing_them_all(tmp_path: Path,
                                                               wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    victims = [f"tests/test_packet.py::test_encode[{n}]" for n in range(25)]
    store(tmp_path, many_victims_run(tmp_path, victims))
    [insight] = reported(tmp_path, wsdoctor_in_process)
    assert insight["playbook"] == "mock-left-on-attribute"
    assert sorted(insight["tests"]) == sorted(victims)
    assert "25 tests fail because of it" in insight["phenomenon"]
    markdown = wsdoctor_in_process(tmp_path, "report", "--out", "report.md")
    page = (tmp_path / "report.md").read_text()
    assert markdown.exit_code == 0 and page.count("\n## ") == 1  # one insight
    assert "and 20 more test(s) with this cause" in page  # five shown in full, the others named


def test_a_polluters_own_static_finding_joins_the_cause_it_was_proven_in() -> None:
    from wsdoctor.analysis.insights import insights_for
    from wsdoctor.playbook import load_all
    from wsdoctor.records import StaticFinding, TestEvidence

    stub = "tests/unit/test_stub.py"
    leak = StateChange("sys.modules", "websockets", "module @1", "MagicMock @2", stub)
    victims = [TestEvidence(nodeid=f"tests/it/test_server.py::test_{n}", verdict=Verdict.ORDER_DEPENDENT,
                            message="No module named 'websockets.asyncio'; 'websockets' is not a package",
                            leaked=(leak,), polluters=(stub,), scope=Scope.FILE_IMPORT) for n in range(2)]
    finding = StaticFinding("sys-modules-assignment", stub, 3, 'sys.modules["websockets"] = MagicMock()')
    polluter = TestEvidence(nodeid=f"{stub}::test_connect", verdict=Verdict.PASS, static=(finding,))
    insights = insights_for([*victims, polluter], load_all()[0], {})
    about = [i for i in insights if i.playbook == "collection-time-side-effect"]
    assert [sorted(i.tests) for i in about] == [sorted([*(v.nodeid for v in victims), polluter.nodeid])]
