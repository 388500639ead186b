"""The HTML report in a real browser: headless Chromium, driven over the DevTools protocol.

A page is evidence only if it reads well where people open it: every section present, the
playbooks' Markdown rendered (no raw fences), long lines wrapped, no request to anywhere, and no
script from test text run. A local canary server is named in the hostile test text, so a request
that an escaping bug let through would be seen; the page's own policy would block it too, which is
why the test also checks the DOM: no element from test text exists at all.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.test_from_records import store
from tests.test_report_names import many_victims_run
from wsdoctor.records import (
    CollectedTest,
    Context,
    Observation,
    Outcome,
    RunRecord,
    TestResult,
    TestVerdict,
    Verdict,
)

CHROMIUM = next((found for name in ("chromium", "chromium-browser", "google-chrome")
                 for found in [shutil.which(name)] if found), None)
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on this machine: `.ci/run` installs it (apt-get install chromium)")]
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-extensions",
         "--window-size=800,1000", "--remote-debugging-port=0")


class Canary(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Canary.requests.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def canary() -> Iterator[str]:
    Canary.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Canary)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


class DevTools:
    """One page of a headless Chromium, and the events it reported."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Network", "Page", "Runtime"):
            self.call(f"{domain}.enable", session=True)

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv(timeout=30))
            if reply.get("id") == self.next_id:
                assert "error" not in reply, reply
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def open(self, url: str) -> None:
        self.call("Page.navigate", session=True, url=url)
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(json.loads(self.socket.recv(timeout=30)))

    def evaluate(self, expression: str) -> Any:
        found = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        return found["result"].get("value")

    def requested(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]


@contextmanager
def chromium(profile: Path) -> Iterator[DevTools]:
    """A headless Chromium with a fresh profile, ended when the block ends."""
    from websockets.sync.client import connect

    assert CHROMIUM is not None
    process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        url = next((line.split(" on ", 1)[1].strip() for line in process.stderr
                    if line.startswith("DevTools listening on ")), "")
        assert url, "chromium did not start its DevTools endpoint"
        with connect(url, max_size=None, open_timeout=30) as socket:
            yield DevTools(socket)
    finally:
        process.kill()
        process.wait(timeout=10)


def hostile_run(tmp_path: Path, canary: str) -> RunRecord:
    """A run with grouped victims, and one failure whose text tries everything a test could print."""
    run = many_victims_run(tmp_path, [f"tests/test_packet.py::test_encode[{n}]" for n in range(25)])
    hostile = "tests/test_x.py::test_<img src=x onerror=window.__pwned=1>"
    message = (f"assert <MagicMock name='mock.dumps()' id='140'> == '<script src=\"{canary}/s.js\"></script>"
               f"<img src=\"{canary}/i.png\" onerror=\"window.__pwned=1\"><style>@import '{canary}/c.css'</style>' "
               + "x" * 600)
    verdict = TestVerdict(hostile, Verdict.FAIL, "fails everywhere, alone too",
                          (Observation("suite", Context.SUITE, Outcome.FAILED, message),))
    result = TestResult(hostile, Outcome.FAILED, message=message, longrepr=f"E   {message}\nE   " + "y" * 900)
    assert run.collection is not None
    tests = (*run.collection.tests, CollectedTest(hostile, "tests/test_x.py"))
    collection = dataclasses.replace(run.collection, tests=tests)
    plan_result = dataclasses.replace(run.plan_results[0], results=(*run.plan_results[0].results, result))
    return dataclasses.replace(run, verdicts=(*run.verdicts, verdict), collection=collection,
                               plan_results=(plan_result,))


def test_the_html_report_reads_well_in_a_browser_and_runs_nothing(tmp_path: Path, canary: str,
                                                                  wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    store(tmp_path, hostile_run(tmp_path, canary))
    done = wsdoctor_in_process(tmp_path, "report", "--out", "report.html")
    assert done.exit_code == 0, done.stderr
    page = (tmp_path / "report.html").resolve()
    with chromium(tmp_path / "profile") as browser:
        browser.open(page.as_uri())
        sections = browser.evaluate("[...document.querySelectorAll('section')].map("
                                    "s => [...s.querySelectorAll('h3')].map(h => h.textContent))")
        found = browser.evaluate("""JSON.stringify({
            scripts: document.querySelectorAll('script').length,
            injected: document.querySelectorAll('img, iframe, object, embed, link, style:not(head style)').length,
            pwned: window.__pwned === undefined ? null : window.__pwned,
            fences: document.body.innerText.includes('```'),
            code_blocks: document.querySelectorAll('section pre code').length,
            overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
            text: document.body.innerText})""")
        requested = browser.requested()
    state = json.loads(found)
    assert len(sections) == 2 and all(s[:5] == ["Phenomenon", "Cause", "Solution", "Lesson", "Test Evidence"]
                                      for s in sections), sections
    assert (state["scripts"], state["injected"], state["pwned"]) == (0, 0, None)
    assert requested == [page.as_uri()] and Canary.requests == []  # the page itself, nothing else
    assert not state["fences"] and state["code_blocks"] >= 2  # the playbook's Markdown is rendered
    assert state["overflow"] <= 0, "a long line scrolls the page sideways"
    assert "<MagicMock name='mock.dumps()' id='140'>" in state["text"]  # test text shown as text
    assert "test_<img src=x onerror=window.__pwned=1>" in state["text"]
