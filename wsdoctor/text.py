"""Small text helpers shared by the parsing edge, the analysis and the renderers (pure)."""

from __future__ import annotations

import re

from wsdoctor.child.protocol import ENTRY

_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+) in (?P<func>\S+)')
_TRACEBACK_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<func>\S+)')


def first_line(text: str, limit: int | None = None) -> str:
    return text.strip().splitlines()[0][:limit] if text.strip() else ""


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def slug(text: str, keep: str = "", limit: int | None = None) -> str:
    """``text`` for a file name: letters and digits kept (and ``keep``), the rest '-'."""
    return "".join(c if c.isalnum() or c in keep else "-" for c in text).strip("-")[:limit]


def error_summary(longrepr: str) -> str:
    """The line of a pytest error report that names the error: its last `E   ` line."""
    lines = [line.strip() for line in longrepr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("E ")]
    return (errors[-1][2:].strip() if errors else (lines[-1] if lines else ""))[:300]


def shown_value(value: str | None) -> str:
    """A piece of state's value as shown: None means it did not exist."""
    return "(absent)" if value is None else value


def blocked_frame(hang_dump: str, project_root: str) -> str:
    """Where a hung test was blocked: the innermost frame, and the innermost project frame.

    faulthandler prints every thread, innermost frame first; the test ran in
    the thread whose stack contains pytest's runner.
    """
    for block in re.split(r"\n(?=(?:Current thread|Thread) 0x)", hang_dump):
        frames = [m for m in map(_FRAME.match, block.splitlines()) if m]
        if not any("_pytest" in m["path"] for m in frames):
            continue
        innermost = _describe(frames[0]) if frames else ""
        own = next((m for m in frames if m["path"].startswith(project_root)
                    and "site-packages" not in m["path"]), None)
        if own is not None and own is not frames[0]:
            return f"{innermost}, called from {_describe(own)}"
        return innermost
    return ""


def exit_blocked_in(hang_dump: str) -> str:
    """Where a process that had no thread left to wait for was blocked on its way out: the outermost
    frame of its main thread (faulthandler prints it last), e.g. multiprocessing's exit function
    joining a process never joined; "" when the dump shows none (code that is not Python: an atexit
    function such as time.sleep)."""
    blocks = re.split(r"\n(?=(?:Current thread|Thread) 0x)", hang_dump.strip())
    frames = [m for m in map(_FRAME.match, blocks[-1].splitlines()) if m] if hang_dump.strip() else []
    frames = [frame for frame in frames if not _is_child_entry(frame["path"])]
    return _describe(frames[-1]) if frames else ""


def _is_child_entry(path: str) -> bool:
    """runpy and wsdoctor's child entry, which end every child: the frames around its exit."""
    return path == "<frozen runpy>" or path.endswith(("/runpy.py", "/" + "/".join(ENTRY)))


def _describe(frame: re.Match[str]) -> str:
    return f"{frame['func']} ({frame['path']}:{frame['line']})"


# ANSI/VT escape sequences (CSI, OSC ended by BEL or ST, and two-byte ESC sequences), then any
# other control character but newline and tab: test output must not drive the terminal.
_CONTROL_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, erase
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window title, hyperlinks, clipboard
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[@-Z\\-_]?"  # other ESC sequences, or a lone ESC
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"  # C0 and C1 controls but \t and \n
)


def printable(text: str) -> str:
    """``text`` without control sequences: what a test printed can neither retitle nor hide."""
    return _CONTROL_SEQUENCE.sub("", text) if text else text


_ORIGIN_HEADER = "Coroutine created at (most recent call last)"
_ORIGIN_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<func>\S+)', re.MULTILINE)


def coroutine_origin(text: str) -> list[tuple[str, int, str]]:
    """The frames (path, line, function), outermost first, of where a never-awaited coroutine was
    created, when the interpreter tracked it (sys.set_coroutine_origin_tracking_depth); else []."""
    _, found, frames = text.partition(_ORIGIN_HEADER)
    if not found:
        return []
    return [(m["path"], int(m["line"]), m["func"]) for m in _ORIGIN_FRAME.finditer(frames)]


def without_origin(text: str) -> str:
    """A warning's text without the frames of its coroutine's origin."""
    return text.partition("\n" + _ORIGIN_HEADER)[0]


def raised_at(traceback: str, root: str) -> tuple[str, str]:
    """A Python traceback's exception line, and its innermost frame as 'path:line in function'
    (the path relative to ``root`` when it is below it)."""
    lines = [line.split("> ", 1)[-1] if line.startswith("INTERNALERROR>") else line
             for line in traceback.splitlines()]
    frames = [m for m in map(_TRACEBACK_FRAME.match, lines) if m]
    error = last_line("\n".join(lines))
    if not frames:
        return error, ""
    path = frames[-1]["path"]
    prefix = root.rstrip("/") + "/"
    shown = path[len(prefix):] if path.startswith(prefix) else path
    return error, f"{shown}:{frames[-1]['line']} in {frames[-1]['func']}"
