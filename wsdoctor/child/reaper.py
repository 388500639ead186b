"""No process of a run outlives wsdoctor: shared by the parent and the child (stdlib only).

* Every child carries a mark in its environment (MARK_VARIABLE = "<run token>/<child number>"),
  and so does everything its tests start, even a daemon that left its process group with
  setsid(): ``sweep`` finds such processes through /proc and kills them.
* Every child watches the read end of a pipe whose write end only wsdoctor holds
  (PARENT_FD_VARIABLE): when wsdoctor dies, however it dies, the read returns end-of-file and the
  child kills what its tests started and its own process group. A pipe, not
  PR_SET_PDEATHSIG: that fires when the *thread* that forked the child exits, and wsdoctor starts
  children from pool threads.
"""

from __future__ import annotations

import atexit
import os
import select
import signal
import stat
import threading
import time

MARK_VARIABLE = "WSDOCTOR_CHILD_MARK"
PARENT_FD_VARIABLE = "WSDOCTOR_PARENT_FD"
PROC = "/proc"
ENDING_TIME = 2.0  # seconds a killed process is waited for, at most


def marked(mark: str, whole: bool = True) -> list[int]:
    """Processes (other than this one) whose environment holds ``mark`` (or, not ``whole``, a mark
    that starts with it); none where there is no /proc."""
    wanted = f"{MARK_VARIABLE}={mark}".encode()
    found = []
    try:
        names = os.listdir(PROC)
    except OSError:
        return []
    for name in names:
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"{PROC}/{name}/environ", "rb") as handle:
                environment = handle.read()
        except OSError:  # gone already, or not ours to read
            continue
        if any(entry == wanted if whole else entry.startswith(wanted) for entry in environment.split(b"\0")):
            found.append(int(name))
    return found


def sweep(mark: str, whole: bool = True) -> list[int]:
    """Kill every process marked ``mark`` (or, not ``whole``, with a mark starting with it), and wait
    until they have ended; the pids."""
    killed = []
    for pid in marked(mark, whole):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            continue
        killed.append(pid)
    _wait_until_ended(killed)
    return killed


def _wait_until_ended(pids: list[int], seconds: float = ENDING_TIME) -> None:
    """SIGKILL takes effect when the process next runs: on a busy machine, some milliseconds after
    kill() returned. Until then it still runs (and holds its ports and files) while wsdoctor goes on,
    or has returned."""
    deadline = time.monotonic() + seconds
    while (pids := [pid for pid in pids if _running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.005)


def _running(pid: int) -> bool:
    """Not ended: a zombie (ended, waiting for its parent to read its status) holds nothing."""
    try:
        with open(f"{PROC}/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")


def watch_parent() -> None:
    """In a child: end everything of this child when wsdoctor is gone (a daemon thread)."""
    fd_text = os.environ.pop(PARENT_FD_VARIABLE, "")  # the tests' own processes have no such descriptor
    if not fd_text.isdigit():
        return
    fd = int(fd_text)
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return
    except OSError:
        return
    threading.Thread(target=_wait_for_parent, args=(fd,), name="wsdoctor-parent-watch", daemon=True).start()
    # A session that ends right after wsdoctor died (a test killing it, say) can reach interpreter
    # exit before the watching thread has run; a daemon thread is then stopped mid-way.
    atexit.register(_end_everything_if_parent_gone, fd)


def _wait_for_parent(fd: int) -> None:
    try:
        data = os.read(fd, 1)
    except OSError:  # the descriptor was closed under us (a test closing every fd): watch no more
        return
    if data:
        return
    _end_everything()


def _end_everything_if_parent_gone(fd: int) -> None:
    try:
        readable, _, _ = select.select([fd], [], [], 0)
        gone = bool(readable) and os.read(fd, 1) == b""
    except (OSError, ValueError):
        return
    if gone:
        _end_everything()


def _end_everything() -> None:
    mark = os.environ.get(MARK_VARIABLE, "")
    if mark:
        sweep(mark)
    try:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(1)  # pragma: no cover - killpg above ends this process
