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
