"""The layout the spec describes stays true: module sizes, ports before adapters, no cycles between features,
and a README whose layout section names what ``ls portal portal/services portal/integrations`` shows.

Conventions checked here (ARCHITECTURE.md, "Packages"):

- no module under ``portal/`` passes 600 lines: split it along its seams;
- an external system lives in ``portal/integrations/<system>/``: the port (a Protocol or ABC) and the factory
  that picks the adapter from configuration in the package's ``__init__.py`` or its ``port`` module, each
  adapter in a module named for its provider (``aliyun.py``, ``tencent.py``, ``outbox.py`` …). Code outside
  ``portal/integrations/`` imports the package or its ``port``, never an adapter module;
- feature packages (``portal/<feature>/``) do not import each other in a cycle, counting imports inside
  functions too (they run at call time, but a cycle hidden in a function is still a cycle of the design);
  imports under ``if TYPE_CHECKING:`` are annotations only and do not count. Cycles within one package and
  the composition root (``portal/__init__.py``, ``portal/cli.py``), which wires every feature, are not checked.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_db

ROOT = Path(__file__).resolve().parent.parent
PORTAL = ROOT / "portal"
MAX_LINES = 600
PORT_MODULES = frozenset({"port"})  # besides the package itself, what code outside integrations may import


# --- the source, as modules ----------------------------------------------------------------------------------


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def portal_modules(root: Path = PORTAL) -> dict[str, Path]:
    return {module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def _type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def imported_names(source: str, module: str, *, is_package: bool) -> list[tuple[str, int]]:
    """Every dotted name ``module`` imports (``from a import b`` gives ``a`` and ``a.b``), with its line; relative
    imports resolved; imports under ``if TYPE_CHECKING:`` left out."""
    package = module if is_package else module.rpartition(".")[0]
    out: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                out.extend((alias.name, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[:len(base) - child.level + 1]
                    target = ".".join([*base, child.module] if child.module else base)
                else:
                    target = child.module or ""
                out.append((target, child.lineno))
                out.extend((f"{target}.{alias.name}", child.lineno) for alias in child.names if alias.name != "*")
            visit(child)

    visit(ast.parse(source))
    return out


def import_graph(modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module → {module it imports: line}, for the modules of ``modules`` only."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, dict[str, int]] = defaultdict(dict)
    for module, path in modules.items():
        for name, line in imported_names(path.read_text(encoding="utf-8"), module,
                                         is_package=path.name == "__init__.py"):
            target = resolve(name)
            if target is not None and target != module:
                graph[module].setdefault(target, line)
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or round a loop (Tarjan), largest first."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in list(graph):
        if node not in index:
            visit(node)
    return sorted(groups, key=len, reverse=True)


def feature_of(module: str) -> str | None:
    """``portal.<feature>`` for a module inside a feature package; None for the composition root."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PORTAL / parts[1]).is_dir()) else None


def feature_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    rooted = {m: {t: n for t, n in targets.items() if feature_of(t)} for m, targets in graph.items() if feature_of(m)}
    return [group for group in strongly_connected(rooted) if len({feature_of(m) for m in group}) > 1]


def adapter_imports(module: str, source: str, *, is_package: bool, integrations: Path) -> list[str]:
    """The adapter modules ``module`` imports: ``portal.integrations.<system>.<name>`` where ``<name>`` is a module
    or package of the system other than its port."""
    found = []
    for name, line in imported_names(source, module, is_package=is_package):
        parts = name.split(".")
        if len(parts) < 4 or parts[:2] != ["portal", "integrations"] or parts[3] in PORT_MODULES:
            continue
        system = integrations / parts[2]
        if (system / f"{parts[3]}.py").is_file() or (system / parts[3] / "__init__.py").is_file():
            found.append(f"line {line}: {name}")
    return found


# --- module sizes ----------------------------------------------------------------------------------------------


def test_no_module_passes_600_lines():
    too_long = {str(path.relative_to(ROOT)): n for path in PORTAL.rglob("*.py")
                if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not too_long, f"split these modules along their seams (at most {MAX_LINES} lines): {too_long}"


# --- ports before adapters -------------------------------------------------------------------------------------


def test_no_package_imports_an_integration_adapter():
    integrations = PORTAL / "integrations"
    offences = {}
    for module, path in portal_modules().items():
        if module == "portal.integrations" or module.startswith("portal.integrations."):
            continue
        found = adapter_imports(module, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py",
                                integrations=integrations)
        if found:
            offences[str(path.relative_to(ROOT))] = found
    assert not offences, f"import the port (portal.integrations.<system> or .port), not an adapter: {offences}"


@pytest.fixture
def fake_integrations(tmp_path):
    system = tmp_path / "portal" / "integrations" / "sms"
    system.mkdir(parents=True)
    for name in ("__init__.py", "port.py", "aliyun.py", "outbox.py"):
        (system / name).write_text("")
    return tmp_path / "portal" / "integrations"


@pytest.mark.parametrize(("source", "module", "bad"), [
    ("from portal.integrations.sms.aliyun import AliyunSender", "portal.notifications.channels", True),
    ("from portal.integrations.sms import outbox", "portal.notifications.channels", True),
    ("from ..integrations.sms import aliyun", "portal.notifications.channels", True),
    ("import portal.integrations.sms.aliyun", "portal.accounts.sms", True),
    ("def f():\n    from ..integrations.sms.outbox import read\n", "portal.accounts.sms", True),
    ("from portal.integrations.sms import sender_from_config", "portal.notifications.channels", False),
    ("from ..integrations.sms.port import SmsSender", "portal.notifications.channels", False),
    ("from ..integrations import sms", "portal.notifications.channels", False),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..integrations.sms.aliyun import A\n",
     "portal.notifications.channels", False),
])
def test_the_adapter_rule_tells_ports_from_adapters(fake_integrations, source, module, bad):
    assert bool(adapter_imports(module, source, is_package=False, integrations=fake_integrations)) is bad


# --- no cycles between features --------------------------------------------------------------------------------


def test_feature_packages_import_no_cycle():
    cycles = feature_cycles(import_graph(portal_modules()))
    assert not cycles, ("these modules of different feature packages import each other in a loop; let the lower "
                        f"layer define a small interface (or send a signal) instead: {cycles}")


def test_the_cycle_rule_sees_a_loop_through_a_deferred_import(tmp_path):
    files = {
        "portal/__init__.py": "from .cases import ops\n",
        "portal/cases/__init__.py": "",
        "portal/cases/ops.py": "def f():\n    from ..files import ops\n",
        "portal/files/__init__.py": "",
        "portal/files/ops.py": "from ..cases.ops import f\n",
        "portal/notes/__init__.py": "",
        "portal/notes/a.py": "from . import b\n",
        "portal/notes/b.py": "from . import a\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(portal_modules(tmp_path / "portal"))
    assert graph["portal.cases.ops"] == {"portal.files": 2, "portal.files.ops": 2}  # the package is imported too
    assert graph["portal.notes.a"] == {"portal.notes": 1, "portal.notes.b": 1}
    groups = strongly_connected(graph)
    assert ["portal.cases.ops", "portal.files.ops"] in groups and ["portal.notes.a", "portal.notes.b"] in groups


def test_feature_cycles_leave_out_loops_within_one_package():
    graph = {"portal.notes.a": {"portal.notes.b": 1}, "portal.notes.b": {"portal.notes.a": 1},
             "portal.applications.x": {"portal.materials.y": 3}, "portal.materials.y": {"portal.applications.x": 4}}
    assert feature_cycles(graph) == [["portal.applications.x", "portal.materials.y"]]


# --- the README's layout section -------------------------------------------------------------------------------


def _entries(folder: Path) -> list[str]:
    """What ``ls`` shows of a folder that matters to a reader: packages and modules, not caches or dunders."""
    return sorted(p.name.removesuffix(".py") for p in folder.iterdir()
                  if p.name not in {"__init__.py", "__main__.py", "__pycache__"}
                  and ((p.is_dir() and (p / "__init__.py").is_file()) or p.suffix == ".py"))


def _section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^#{{1,2}} |^---$|\Z)", text, re.M | re.S)
    assert match, f"the README has no “## {heading}” section"
    return match.group(1)


def _named(section: str, name: str) -> bool:
    return re.search(rf"(?<![\w.-]){re.escape(name)}(?:\.py|/)?(?![\w-])", section) is not None


def _listed_folders() -> Iterable[Path]:
    yield PORTAL
    yield PORTAL / "services"
    if (PORTAL / "integrations").is_dir():
        yield PORTAL / "integrations"


@pytest.mark.parametrize("heading", ["Layout", "代码结构"])
def test_the_readme_layout_names_every_package(heading):
    section = _section((ROOT / "README.md").read_text(encoding="utf-8"), heading)
    missing = {str(folder.relative_to(ROOT)): [n for n in _entries(folder) if not _named(section, n)]
               for folder in _listed_folders()}
    assert not any(missing.values()), f"the README's “{heading}” section does not name {missing}"
    stale = [path for path in re.findall(r"`(portal/[\w/.]+?)/?`", section) if not (ROOT / path).exists()]
    assert not stale, f"the README's “{heading}” section names what is not there: {stale}"
