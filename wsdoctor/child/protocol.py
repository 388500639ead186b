"""File names and text limits shared by the child plugin and the parent (stdlib only: shipped to the child).

There is no protocol version to check: every run stages this very package for its children,
so both sides always come from the same wsdoctor.
"""

import json

EVENTS_FILE = "events.jsonl"
REPORT_FILE = "report.json"
HANG_FILE = "hang.txt"
# An xdist worker of a child that runs the suite distributed, as the project does (gw0, gw1, ...).
WORKER_EVENTS = "events-{worker}.jsonl"
WORKER_HANG = "hang-{worker}.txt"
# Where the child's entry (pytest, ending without the interpreter's finalization) is in the staged
# package: the parent runs it by this path, and finds its frames in a dump by it.
ENTRY = ("wsdoctor", "child", "__main__.py")
# A child started ahead with the part of its command line every child of its kind shares, which
# reads the rest from the descriptor this option names (wsdoctor.execution.prestart).
AWAIT_OPTION = "--wsdoctor-await"


def keep_ends(text: str, end: int) -> str:
    """``text`` with at most ``end`` characters at each end, and a note of what was dropped between."""
    if len(text) <= 2 * end:
        return text
    return f"{text[:end]}\n[... wsdoctor dropped {len(text) - 2 * end} characters here ...]\n{text[-end:]}"


def id_line(text: str) -> str:
    """One line of an ids or paths file: the text itself, or, when it holds a line break (a test file
    with one in its name) or starts with a quote, the text as a JSON string."""
    return (json.dumps(text) if "\n" in text or "\r" in text or text.startswith('"') else text) + "\n"


def from_id_line(line: str) -> str:
    line = line.rstrip("\n")
    return json.loads(line) if line.startswith('"') else line
