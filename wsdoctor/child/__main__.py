"""``python wsdoctor/child/__main__.py`` (or ``python -m wsdoctor.child``): ``python -m pytest``,
ending sooner (stdlib only, Python 3.9+).

pytest's own ``__main__`` runs as ``python -m pytest`` runs it. After the session the exit goes as
it always does: the non-daemon threads are joined, then the atexit functions run, so what a test
left running still holds the exit and is seen. Then the process leaves without the interpreter's
finalization, which frees every object one at a time: after a suite of thousands of tests that
is a tenth of a second or more, in every child.

Started as ``__main__.py --wsdoctor-prestarted FD`` (a prestarted child: wsdoctor starts the next
child while the current one runs), it imports pytest first, then reads its command line (a JSON
list) from the pipe FD and runs as it would have run started with it. Its interpreter, flags,
environment, working directory and descriptors are those of that child already: only pytest is
imported sooner (its own modules: no plugin, no conftest). An empty pipe means it is not wanted: it ends.
"""

import atexit
import contextlib
import io
import json
import os
import runpy
import sys
import threading

PRESTARTED = "--wsdoctor-prestarted"


def main() -> None:
    try:
        runpy.run_module("pytest", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exit_:
        code = exit_status(exit_.code)
    threading._shutdown()  # type: ignore[attr-defined]  # what the interpreter's own exit calls first
    atexit._run_exitfuncs()  # ... and then
    for stream in (sys.stdout, sys.stderr, *_module_level_files()):
        with contextlib.suppress(Exception):  # a closed pipe or file: nothing more to say there
            stream.flush()
    os._exit(code)


def _module_level_files() -> list[io.IOBase]:
    """Files the suite opened at module level and never closed, whose buffers the interpreter's
    finalization would have written out. (A file held anywhere else is not looked for: that would
    mean walking the whole heap, the cost this exit avoids.)"""
    found: list[io.IOBase] = []
    for module in list(sys.modules.values()):
        with contextlib.suppress(Exception):  # whatever a module-like object does when looked at
            namespace = vars(module)  # a real attribute: a mock in sys.modules records nothing
            found += [value for value in list(namespace.values()) if isinstance(value, io.IOBase)]
    return found


def exit_status(code: object) -> int:
    """What the interpreter makes of SystemExit's code."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def prestarted(control_fd: int) -> None:
    """Pay pytest's start-up before the command line is known, then run with the one ``control_fd``
    brings (nothing: not wanted, end)."""
    import pytest  # noqa: F401  # the start-up every child pays
    with open(control_fd, "rb") as control:
        request = control.read()
    if not request:
        os._exit(0)
    sys.argv = [sys.argv[0], *json.loads(request.decode("utf-8"))]
    main()


if __name__ == "__main__":
    sys.path[0] = os.getcwd()  # as `python -m pytest` has it: the working directory, not this file's
    if sys.argv[1:2] == [PRESTARTED]:
        prestarted(int(sys.argv[2]))
    else:
        main()
