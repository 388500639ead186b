"""Static checks of test files: each habit that hides a failure or pollutes, found at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from wsdoctor.analysis.static import scan_source

# The habits the checks must find, as a test file would hold them (a data file, not a module: its
# tautologies are the input, not assertions of ours).
SOURCE = (Path(__file__).parent / "scenarios" / "static_samples" / "habits.py.txt").read_text(encoding="utf-8")


def test_every_habit_is_found_at_its_line() -> None:
    found = [(f.id, f.line) for f in scan_source(SOURCE, "tests/test_x.py")]
    assert found == [("sys-modules-assignment", 5), ("called-once-assertion", 9), ("assert-true", 12),
                     ("len-ge-zero", 15), ("environ-assignment", 18), ("swallowed-exception", 23),
                     ("guarded-assertion", 26)]
    assert scan_source(SOURCE, "tests/test_x.py")[1].code == "assert m.send_json.called_once()"


@pytest.mark.parametrize("source", ["def test_(:\n", "", "def test_fine():\n    assert 1 == 1\n"])
def test_a_file_that_does_not_parse_or_is_clean_has_no_finding(source: str) -> None:
    assert scan_source(source, "t.py") == ()


# Each check's shapes that must NOT trigger it: precision matters more than recall.
NEGATIVES = {
    "guarded-assertion": [
        "def test_every_branch(v):\n    if v:\n        assert v == 1\n    else:\n        assert v is None\n",
        "def test_chain(v):\n    if v == 0:\n        assert 1\n    elif v == 1:\n        assert 2\n    else:\n"
        "        assert 3\n",
        "import pytest\ndef test_else_fails(e):\n    if e:\n        assert e[0]\n    else:\n"
        "        pytest.fail('none')\n",
        "def test_else_raises(e):\n    if e:\n        assert e[0]\n    else:\n        raise AssertionError('none')\n",
        "def test_in_a_loop(items):\n    for item in items:\n        assert item\n",
        "def test_then_always(e):\n    if e:\n        assert e[0]\n    assert len(e) == 1\n",
        # asserts in a callback the code under test calls (an ASGI send): the source cannot tell
        "async def test_callback(app):\n    async def send(m):\n        if m['type'] == 'start':\n"
        "            assert m['status'] == 200\n    await app(send)\n",
        "def test_handler(client):\n    class App:\n        def on_close(self, code):\n"
        "            assert code == 1001\n    client(App).close()\n",
    ],
    "swallowed-exception": [
        "import socket\ndef test_cleanup(s):\n    try:\n        reply = s.recv(1)\n    finally:\n        try:\n"
        "            s.shutdown(socket.SHUT_RDWR)\n        except Exception:\n            pass\n"
        "        s.close()\n    assert reply == b'x'\n",
        "import pytest\n@pytest.fixture\ndef conn(s):\n    yield s\n    try:\n        s.shutdown(2)\n"
        "    except Exception:\n        pass\n",
        "def test_narrow():\n    try:\n        assert f()\n    except KeyError:\n        pass\n",
    ],
    "environ-assignment": [
        "import os\nfrom unittest.mock import patch\ndef test_scoped():\n"
        "    with patch.dict(os.environ, {'A': '1'}):\n        os.environ['B'] = '2'\n",
        "import os\nfrom unittest import mock\n@mock.patch.dict(os.environ, {})\ndef test_decorated():\n"
        "    os.environ['B'] = '2'\n",
        "def test_monkeypatched(monkeypatch):\n    monkeypatch.setenv('B', '2')\n",
    ],
    "called-once-assertion": [
        "def test_real(m):\n    m.send.assert_called_once_with(1)\n",
        "def test_count(m):\n    assert m.send.call_count == 1\n",
    ],
    "len-ge-zero": ["def test_bound(h):\n    assert len(h) >= 1\n"],
    "assert-true": ["def test_is_true(h):\n    assert h() is True\n"],
}
POSITIVES = {
    "guarded-assertion": "def test_only_if(e):\n    if e:\n        assert e[0]\n",
    "swallowed-exception": "def test_hidden(s):\n    try:\n        assert s.recv(1) == b'x'\n    except Exception:\n"
                           "        pass\n",
    "environ-assignment": "import os\ndef test_leaks():\n    os.environ['B'] = '2'\n",
}


@pytest.mark.parametrize(("check", "source"), [(c, s) for c, sources in NEGATIVES.items() for s in sources])
def test_a_shape_that_cannot_hide_a_failure_is_not_flagged(check: str, source: str) -> None:
    assert check not in {f.id for f in scan_source(source, "t.py")}


@pytest.mark.parametrize(("check", "source"), POSITIVES.items())
def test_the_positive_twin_still_is(check: str, source: str) -> None:
    assert check in {f.id for f in scan_source(source, "t.py")}
