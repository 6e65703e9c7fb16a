"""The layers point one way: no import cycle anywhere in the package (function-level imports included), the
engine imports nothing above it, and every module imports on its own in a fresh interpreter."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "gateway"


def _modules() -> dict[str, Path]:
    out = {}
    for f in PACKAGE.rglob("*.py"):
        parts = f.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of the package that `name` imports, wherever in the file (a lazy import is still a dependency)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            while t:          # importing a module runs its parent packages' __init__ first
                if t != name and not name.startswith(t + "."):
                    found.add(t)
                t = t.rpartition(".")[0]
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {n: _imports(n, p, set(mods)) for n, p in mods.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, if there is any (a module's own parent packages are not its dependencies: they are
    initialised before it; a package's __init__ importing its modules is an edge like any other)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_no_import_cycle():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_engine_imports_nothing_above_it():
    for name, deps in _graph().items():
        if name.startswith("gateway.engine"):
            outside = {d for d in deps if not d.startswith("gateway.engine")}
            assert not outside, f"{name} imports {sorted(outside)}"


def test_stores_depend_on_the_engine_never_the_reverse():
    graph = _graph()
    for name, deps in graph.items():
        if name.startswith("gateway.store"):
            assert not {d for d in deps if d.startswith(("gateway.vendors", "gateway.app", "gateway.admin"))}


def test_every_module_imports_first_in_a_fresh_interpreter():
    script = ("import importlib, sys\nfailed = []\nfor name in sys.argv[1:]:\n"
              "    for m in [m for m in sys.modules if m == 'gateway' or m.startswith('gateway.')]:\n"
              "        del sys.modules[m]\n"
              "    try:\n        importlib.import_module(name)\n"
              "    except Exception as exc:\n        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
              "print('\\n'.join(failed))\n")
    names = sorted(n for n in _modules() if n != "gateway.__main__")
    out = subprocess.run([sys.executable, "-c", script, *names], capture_output=True, text=True, timeout=120,
                         cwd=PACKAGE.parent)
    assert out.returncode == 0 and out.stdout.strip() == "", out.stdout + out.stderr
    fresh = subprocess.run([sys.executable, "-c", "import gateway.engine.ports"], capture_output=True, text=True,
                           timeout=60, cwd=PACKAGE.parent)
    assert fresh.returncode == 0, fresh.stderr
