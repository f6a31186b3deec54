"""Import layering: lower layers never import upper ones (checked on the source, imports inside
functions included)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "kosql"


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return out


def _offenders(files: list[Path], forbidden: str) -> list[str]:
    return sorted(f"{p.relative_to(PACKAGE.parent)} imports {m}" for p in files for m in _imports(p)
                  if m == forbidden or m.startswith(forbidden + "."))


def test_the_data_layer_does_not_import_the_prompt_layer() -> None:
    assert _offenders(sorted((PACKAGE / "data").rglob("*.py")), "kosql.prompts") == []


def test_inference_does_not_import_training_code() -> None:
    files = [*sorted((PACKAGE / "models").rglob("*.py")), *sorted((PACKAGE / "evaluate").rglob("*.py")),
             PACKAGE / "cli" / "generate.py", PACKAGE / "cli" / "eval.py", PACKAGE / "runinfo.py",
             PACKAGE / "pipeline" / "steps.py", PACKAGE / "pipeline" / "plan.py"]
    assert _offenders(files, "kosql.train") == []


def test_the_sql_layer_is_pure() -> None:
    """kosql.sql (parsing, normalising, comparing, guarding SQL) reads no database and no dataset."""
    files = sorted((PACKAGE / "sql").rglob("*.py"))
    assert _offenders(files, "kosql.db") + _offenders(files, "kosql.data") == []


def _module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _kosql_imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """The kosql modules ``path`` (module ``name``) imports anywhere (module level, inside functions,
    under TYPE_CHECKING); ``from pkg import sub`` counts as importing ``pkg.sub`` when that is a module."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1] + [node.module or ""]).strip(".") \
                if node.level else node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in modules else base)
    return {m for m in out if m in modules and m != name}


def import_cycles(package: Path = PACKAGE) -> list[list[str]]:
    """Groups of kosql modules that import each other in a loop (strongly connected components of the
    import graph with more than one module), sorted."""
    files = {_module_name(p, package): p for p in package.rglob("*.py")}
    graph = {m: sorted(_kosql_imports(p, m, set(files))) for m, p in files.items()}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        order[v] = low[v] = len(order)
        stack.append(v)
        for w in graph[v]:
            if w not in order:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], order[w])
        if low[v] == order[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return sorted(groups)


def test_the_cycle_finder_finds_function_level_and_type_only_loops(tmp_path: Path) -> None:
    pkg = tmp_path / "kosql"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "a" / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "a" / "x.py").write_text("from kosql.a.y import Y\n", encoding="utf-8")
    (pkg / "a" / "y.py").write_text("def f():\n    from . import z\n", encoding="utf-8")
    (pkg / "a" / "z.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                    "    from kosql.a import x\n", encoding="utf-8")
    (pkg / "b.py").write_text("import kosql.a.x\n", encoding="utf-8")
    assert import_cycles(pkg) == [["kosql.a.x", "kosql.a.y", "kosql.a.z"]]


def test_no_kosql_modules_import_each_other_in_a_loop() -> None:
    """A loop makes the import order decide what works; shared types go to a module of their own."""
    assert import_cycles() == []
