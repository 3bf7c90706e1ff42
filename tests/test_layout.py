"""The package's layout: imports run one way, the checker stays independent, docstrings."""

from __future__ import annotations

import ast
from pathlib import Path

SOLVER = Path(__file__).resolve().parent.parent / "solver"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOLVER.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SOLVER.rglob("*.py"))}


def imports(path: Path, known: set[str]) -> set[str]:
    """Every solver module that ``path`` imports, at any depth of the file (lazy ones too)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        out |= {n for n in names if n in known}
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    # A package's __init__ is its front door (solver/__init__.py re-exports lazily); the
    # edges that matter run between modules.
    return {name: imports(path, set(known)) - {name} for name, path in known.items()
            if path.name != "__init__.py"}


def test_no_module_imports_another_in_a_circle() -> None:
    g = graph()
    inits = {name for name, path in modules().items() if path.name == "__init__.py"}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(g.get(node, set()) - inits):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(g):
        if node not in state:
            visit(node, [node])
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_checker_never_imports_the_model_or_highs() -> None:
    g = graph()
    for name, deps in g.items():
        if name.startswith("solver.check."):
            bad = {d for d in deps if d.startswith(("solver.model", "solver.highs",
                                                    "solver.results", "solver.solve"))}
            assert not bad, f"{name} imports {sorted(bad)}"


def test_no_module_imports_a_private_name_of_another() -> None:
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.startswith("solver"):
                private = [a.name for a in node.names if a.name.startswith("_")
                           and not a.name.startswith("__")]
                assert not private, f"{name} imports {private} from {node.module}"


def test_every_module_has_its_docstring_and_a_readable_size() -> None:
    for name, path in modules().items():
        tree = ast.parse(path.read_text())
        assert ast.get_docstring(tree), f"{name} has no docstring"
        lines = len(path.read_text().splitlines())
        assert lines <= 520, f"{name} has {lines} lines; split it along its seams"


def test_the_readme_layout_names_every_folder_of_the_package() -> None:
    readme = (SOLVER.parent / "README.md").read_text()
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    listed: set[str] = set()
    parent = ""
    for line in block.splitlines():
        if line.startswith("    ") and line.strip():
            listed.add(parent + line.split()[0])  # a sub-folder of the folder above
        elif line.startswith("  "):
            parent = line.split()[0]
            listed.add(parent)
    folders = {f"{p.parent.relative_to(SOLVER)}/" for p in SOLVER.rglob("__init__.py")
               if p.parent != SOLVER and len(p.parent.relative_to(SOLVER).parts) <= 2}
    top = {p.name for p in SOLVER.glob("*.py")}
    assert folders <= listed, f"missing from the README's layout: {sorted(folders - listed)}"
    assert listed <= folders | top, f"not in the package: {sorted(listed - folders - top)}"
