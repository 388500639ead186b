"""What the probes see of the process as a whole: environment, working directory, sys.path,
threads, open descriptors and LISTEN sockets, unittest.mock patchers, logging handlers,
signal handlers, the current event loop. Stdlib only, Python 3.9+.
"""

from __future__ import annotations

import asyncio
import logging
import operator
import os
import signal
import sys
import threading
from typing import Any, Iterable, List, Optional, Set, Tuple

from wsdoctor.child.namespaces import Entries, clip, loop_state

SIGNALS = ("SIGINT", "SIGTERM", "SIGALRM", "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGHUP")
SIGNAL_NUMBERS = [(name, getattr(signal, name)) for name in SIGNALS if hasattr(signal, name)]


def signal_entries(handlers: List[Any]) -> Entries:
    return {"signal:" + name: _handler_text(handler) for (name, _), handler in zip(SIGNAL_NUMBERS, handlers)}


def _handler_text(handler: Any) -> str:
    if isinstance(handler, int) and handler in (signal.SIG_DFL, signal.SIG_IGN):
        return repr(signal.Handlers(handler))
    return getattr(handler, "__qualname__", None) or repr(handler)


def environ_entries(_: Any) -> Entries:
    return {"environ:" + name: clip(value) for name, value in os.environ.items()
            if not name.startswith("PYTEST_")}


def current_dir() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "<deleted>"


def process_entries(cwd_and_path: List[str]) -> Entries:
    cwd, *path = cwd_and_path
    entries = {"sys.path:" + entry: "present" for entry in path}
    entries["cwd:"] = cwd
    return entries


def thread_entries(threads: List[threading.Thread]) -> Entries:
    main = threading.main_thread()
    return {f"thread:{thread.name}": "daemon" if thread.daemon else "alive"
            for thread in threads if thread is not main}


# This process's id, kept up to date across os.fork(): asking the kernel for it is a system call
# on every snapshot.
_PID = [os.getpid()]
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _PID.__setitem__(0, os.getpid()))


class OpenFiles:
    """What changes when this process opens or closes a file or a socket (Linux /proc).

    Linux 6.2+ gives the number of open fds as the size of /proc/PID/fd. Asked through a
    descriptor kept open on that directory, that costs a third of listing them, and a new fd
    takes the lowest free number, so the count changes when the listing would. Elsewhere, the
    listing itself; not on Linux, nothing (and no sockets section). A forked child has its own
    descriptors: it opens its own /proc/PID/fd.
    """

    def __init__(self) -> None:
        self._fd: Optional[int] = None
        self._pid = 0
        self._identity: Tuple[int, int] = (0, 0)
        self._counts = True  # whether this kernel gives counts

    def now(self) -> Any:
        pid = _PID[0]
        if self._counts and self._fd is not None and self._pid == pid:
            try:
                info = os.fstat(self._fd)
                if (info.st_ino, info.st_dev) == self._identity:  # still ours, not closed and reused
                    return info.st_size
            except OSError:
                pass  # closed by a test: open another
        return self._open(pid) if self._counts else _fd_listing()

    def _open(self, pid: int) -> Any:
        try:
            fd = os.open(f"/proc/{pid}/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            info = os.fstat(fd)
        except OSError:
            self._counts = False
            return _fd_listing()
        if not info.st_size:
            os.close(fd)
            self._counts = False
            return _fd_listing()
        self._fd, self._pid, self._identity = fd, pid, (info.st_ino, info.st_dev)
        return info.st_size


def _fd_listing() -> Optional[List[str]]:
    try:
        return os.listdir("/proc/self/fd")
    except OSError:
        return None


def socket_entries(_: Any) -> Entries:
    """LISTEN sockets this process holds (Linux /proc)."""
    state: Entries = {}
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return state
    inodes = _socket_inodes(fds)
    if not inodes:
        return state
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for address, inode in _listening(table):
            if inode in inodes:
                state[f"socket:LISTEN {address}"] = "open"
    return state


def _socket_inodes(fds: Iterable[str]) -> Set[str]:
    inodes: Set[str] = set()
    for fd in fds:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _listening(table: str) -> List[Tuple[str, str]]:
    try:
        with open(table, encoding="ascii") as handle:
            lines = handle.readlines()[1:]
    except OSError:
        return []
    found = []
    for line in lines:
        fields = line.split()
        if len(fields) > 9 and fields[3] == "0A":  # 0A: TCP_LISTEN
            found.append((_address(fields[1]), fields[9]))
    return found


def _address(hex_address: str) -> str:
    host, port = hex_address.split(":")
    if len(host) == 8:
        octets = [str(int(host[i:i + 2], 16)) for i in (6, 4, 2, 0)]
        return f"{'.'.join(octets)}:{int(port, 16)}"
    return f"[{host}]:{int(port, 16)}"


def active_patches() -> List[Any]:
    mock = sys.modules.get("unittest.mock")
    return list(getattr(getattr(mock, "_patch", None), "_active_patches", None) or [])


def patcher_entries(active: List[Any]) -> Entries:
    state: Entries = {}
    for patcher in active:
        target = getattr(patcher, "getter", None)
        owner = target() if callable(target) else None
        owner_name = getattr(owner, "__name__", type(owner).__name__)
        state[f"patcher:{owner_name}.{getattr(patcher, 'attribute', '?')}"] = "active"
    return state


HANDLERS = operator.attrgetter("handlers")
DISABLED = operator.attrgetter("disabled")




def logging_entries(_: Any) -> Entries:
    state: Entries = {}
    loggers = [("root", logging.getLogger())]
    loggers += [(name, logger) for name, logger in list(logging.Logger.manager.loggerDict.items())
                if isinstance(logger, logging.Logger)]
    for name, logger in loggers:
        handlers = [type(h).__name__ for h in logger.handlers
                    if not type(h).__module__.startswith("_pytest")]
        if handlers:
            state["logging:" + name] = ", ".join(handlers)
        if name != "root" and logger.disabled:
            state["logging-disabled:" + name] = "disabled"
    return state


def current_loop() -> List[Any]:
    """The event loop set as current, and whether it is closed and running (False and True
    are single objects: an identity check sees them change)."""
    policy = getattr(asyncio.events, "_event_loop_policy", None)
    loop = getattr(getattr(policy, "_local", None), "_loop", None)
    return [] if loop is None else [loop, loop.is_closed(), loop.is_running()]


def event_loop_entries(current: List[Any]) -> Entries:
    return {"event-loop:current": f"set, {loop_state(current[0])}"} if current else {}
