"""The moment a project module's first import ends: its baseline (stdlib only, Python 3.9+).

A test that imports the application inside its body (``from app.manager import manager`` as
its first line) creates the module while it runs: the snapshot before the test has no "before"
for it. So the module's state right after its first import, wherever that import happens (at
collection, in a fixture, inside a test, inside another module's import), is its baseline, and
what the importing test changes after that is the test's doing.

A finder first on ``sys.meta_path`` asks the others for each new module's spec and, for the
project's own modules only, wraps the loader so that the end of the module's execution is seen.
When the outermost such import ends (``from app.main import create_app`` also imports what
``app.main`` imports: their baselines include what importing ``app.main`` did to them), the
callback gets the names of the modules it imported. Only first imports pass here: a module
already in ``sys.modules`` is never looked up again.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable, List, Optional

IsProjectFile = Callable[[str, str], bool]  # (module name, file) -> is it one of the project's modules
Imported = Callable[[List[str]], None]


class FirstImports:
    """A meta path finder that reports when the import of project modules ends."""

    def __init__(self, is_project: IsProjectFile, imported: Imported) -> None:
        self.is_project = is_project
        self.imported = imported
        self._local = threading.local()  # per thread: the depth of project imports, the modules so far

    def install(self) -> None:
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        state = self._state()
        if state.finding:  # a finder below imports something while it looks: leave that to them
            return None
        state.finding = True
        try:
            spec = self._spec_from_the_others(name, path, target)
        finally:
            state.finding = False
        if spec is None or spec.loader is None or not spec.origin or not hasattr(spec.loader, "exec_module"):
            return spec
        if self.is_project(name, spec.origin):
            spec.loader = _SeenLoader(spec.loader, self)
        return spec

    def _spec_from_the_others(self, name: str, path: Any, target: Any) -> Any:
        for finder in list(sys.meta_path):
            if finder is self:
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                return spec
        return None

    def entered(self) -> None:
        self._state().depth += 1

    def left(self, name: Optional[str]) -> None:
        """The code of module ``name`` ended (None: it raised, and the import system takes the
        module out of sys.modules again: no state of its is a baseline)."""
        state = self._state()
        state.depth -= 1
        if name is not None:
            state.names.append(name)
        if state.depth == 0 and state.names:
            names, state.names = state.names, []
            self.imported(names)

    def _state(self) -> Any:
        state = self._local
        if not hasattr(state, "depth"):
            state.depth, state.names, state.finding = 0, [], False
        return state


class _SeenLoader:
    """The module's own loader, doing all the work; it only marks the end of the module's code."""

    def __init__(self, loader: Any, watch: FirstImports) -> None:
        self._loader = loader
        self._watch = watch

    def create_module(self, spec: Any) -> Optional[Any]:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: Any) -> None:
        # The module sees its own loader, as if nothing stood in between.
        module.__loader__ = self._loader
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self._loader
        self._watch.entered()
        try:
            self._loader.exec_module(module)
        except BaseException:
            self._watch.left(None)
            raise
        self._watch.left(module.__name__)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)
