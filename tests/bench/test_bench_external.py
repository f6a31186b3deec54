"""bench/external.py end to end with the fake backend (offline, no model)."""

from __future__ import annotations

import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DDL = 'CREATE TABLE "table_1" (\n  "선수" TEXT,\n  "번호" TEXT\n);'


def _load_external() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_external", ROOT / "bench/external.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def kowikisql(tmp_path: Path) -> Path:
    """A KoWikiSQL-format file: two dev rows (the fake backend's SELECT * answers the first) and a test row."""
    folder = tmp_path / "kowikisql"
    folder.mkdir()
    con = sqlite3.connect(folder / "ko.sqlite")
    con.executescript(DDL + "INSERT INTO \"table_1\" VALUES ('김철수', '3'), ('이영희', '7');")
    con.commit()
    con.close()
    rows = [("dev-0", "선수 전부 보여줘", 'SELECT * FROM "table_1"', "dev"),
            ("dev-1", "3번 선수는 누구야?", "SELECT \"선수\" FROM \"table_1\" WHERE \"번호\" = '3'", "dev"),
            ("test-0", "7번 선수는?", "SELECT \"선수\" FROM \"table_1\" WHERE \"번호\" = '7'", "test")]
    path = folder / "ko_text2sql_format.jsonl"
    path.write_text("".join(json.dumps({"id": i, "db_id": "t1", "context": DDL, "question": q, "answer": a,
                                        "db_path": "ko.sqlite", "split": s}, ensure_ascii=False) + "\n"
                            for i, q, a, s in rows), encoding="utf-8")
    return path


def test_fake_backend_end_to_end(tmp_path: Path, kowikisql: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "KOSQL_CACHE_DIR": str(tmp_path / "cache"), "KOSQL_THREADS": "1"}
    proc = subprocess.run([sys.executable, "bench/external.py", "--backend", "fake", "--limit", "3", "--workers", "1",
                           "--kowikisql", str(kowikisql), "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["backend"] == "fake" and summary["limit"] == 3
    hand, wiki = summary["sets"]["handwritten"], summary["sets"]["kowikisql-dev"]
    assert hand["rows"] == 3 and hand["ex"]["n"] == 3
    assert wiki["rows"] == 2  # the dev rows only
    assert (wiki["ex"]["correct"], wiki["ex"]["n"]) == (1, 2)  # SELECT * FROM "table_1" is right once
    assert wiki["ex"]["ci95"][0] < 0.5 < wiki["ex"]["ci95"][1]
    for name in ("handwritten", "kowikisql-dev"):
        preds = (out / name / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(preds) == summary["sets"][name]["rows"]
        assert (out / name / "eval" / "per_row.jsonl").is_file()
    md = (out / "summary.md").read_text(encoding="utf-8")
    assert "kowikisql-dev" in md and "50.0 %" in md
    assert md in proc.stdout


def test_compare_adds_a_paired_test_per_set(tmp_path: Path, kowikisql: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOSQL_CACHE_DIR", str(tmp_path / "cache"))
    external = _load_external()
    base = ["--backend", "fake", "--limit", "2", "--workers", "1"]
    assert external.main([*base, "--out", str(tmp_path / "a")]) == 0
    assert external.main([*base, "--kowikisql", str(kowikisql), "--out", str(tmp_path / "b"),
                          "--compare", str(tmp_path / "a")]) == 0
    summary = json.loads((tmp_path / "b" / "summary.json").read_text(encoding="utf-8"))
    paired = summary["sets"]["handwritten"]["paired"]
    assert paired["n"] == 2 and paired["p_value"] == 1.0
    assert summary["sets"]["kowikisql-dev"]["paired"] is None  # the other run had no KoWikiSQL
    assert "McNemar" in (tmp_path / "b" / "summary.md").read_text(encoding="utf-8")


def test_bad_kowikisql_path_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOSQL_CACHE_DIR", str(tmp_path / "cache"))
    external = _load_external()
    code = external.main(["--backend", "fake", "--kowikisql", str(tmp_path / "missing.jsonl"),
                          "--out", str(tmp_path / "out")])
    assert code == 2
    assert capsys.readouterr().err.startswith("Error: --kowikisql:")
    assert not (tmp_path / "out" / "summary.json").exists()


def test_default_out_names_model_and_adapter() -> None:
    external = _load_external()
    assert external.default_out("qwen2.5-coder-0.5b", None).name == "external-qwen2.5-coder-0.5b"
    assert external.default_out("qwen2.5-coder-0.5b", "runs/quick-1/train/adapter/").name == \
        "external-qwen2.5-coder-0.5b-quick-1"
    assert external.default_out("qwen2.5-coder-0.5b", "lora").name == "external-qwen2.5-coder-0.5b-lora"
