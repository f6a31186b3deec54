"""`kosql eval` end to end on a tiny fixture: gold = 100 %, shuffled predictions explained, no torch."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from kosql.cli.main import main
from kosql.db.execute import close_cached_connections

ROOT = Path(__file__).resolve().parents[2]
GOLDS = [
    "SELECT 이름 FROM 고객 WHERE 나이 > 40",
    "SELECT COUNT(*) FROM 주문",
    "SELECT 도시, COUNT(*) FROM 고객 GROUP BY 도시",
    "SELECT 이름, 나이 FROM 고객 ORDER BY 나이 DESC, id LIMIT 5",
    "SELECT AVG(금액) FROM 주문",
    "SELECT DISTINCT 도시 FROM 고객",
    "SELECT 이름 FROM 고객 WHERE id IN (SELECT 고객_id FROM 주문 WHERE 금액 > 500)",
    "SELECT MAX(금액) FROM 주문",
]


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    import sqlite3

    (tmp_path / "dbs").mkdir()
    conn = sqlite3.connect(tmp_path / "dbs" / "shop.db")
    conn.executescript("CREATE TABLE 고객 (id INTEGER PRIMARY KEY, 이름 TEXT, 나이 INT, 도시 TEXT);"
                       "CREATE TABLE 주문 (id INTEGER PRIMARY KEY, 고객_id INT, 금액 REAL);")
    conn.executemany("INSERT INTO 고객 VALUES (?, ?, ?, ?)",
                     [(i, f"고객{i}", 20 + i % 30, ["서울", "부산"][i % 2]) for i in range(1, 101)])
    conn.executemany("INSERT INTO 주문 VALUES (?, ?, ?)", [(i, 1 + i % 100, i * 2.5) for i in range(1, 301)])
    conn.commit()
    conn.close()
    with (tmp_path / "test.jsonl").open("w", encoding="utf-8") as fh:
        for i, g in enumerate(GOLDS):
            fh.write(json.dumps({"id": f"q{i}", "db_id": "shop", "context": "", "question": f"질문 {i}",
                                 "answer": g, "db_path": "dbs/shop.db", "split": "test"},
                                ensure_ascii=False) + "\n")
    yield tmp_path
    close_cached_connections()


def test_gold_predictions_score_100(data_dir: Path) -> None:
    out = data_dir / "out"
    code = main(["eval", "--data", str(data_dir / "test.jsonl"), "--pred", "gold", "--out", str(out), "--quiet"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["overall"]["exec"]["acc"] == 1.0 and metrics["overall"]["exec"]["n"] == len(GOLDS)
    assert metrics["categories"] == {"correct": len(GOLDS)}
    rows = [json.loads(line) for line in (out / "per_row.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["category"] for r in rows] == ["correct"] * len(GOLDS)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html
    assert (out / "accuracy_by_hardness.png").read_bytes()[:4] == b"\x89PNG"
    assert "execution accuracy" in (out / "report.md").read_text(encoding="utf-8")


def test_shuffled_predictions_are_explained(data_dir: Path) -> None:
    preds = list(GOLDS)
    random.Random(1).shuffle(preds)
    assert all(p != g for p, g in zip(preds, GOLDS, strict=True))
    pred_path = data_dir / "shuffled.jsonl"
    with pred_path.open("w", encoding="utf-8") as fh:  # no ids: matched by line order, key 'sql'
        for p in preds:
            fh.write(json.dumps({"sql": p}, ensure_ascii=False) + "\n")
    out = data_dir / "out2"
    assert main(["eval", "--data", str(data_dir / "test.jsonl"), "--pred", str(pred_path), "--out", str(out),
                 "--quiet", "--workers", "1"]) == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["overall"]["exec"]["acc"] == 0.0
    assert metrics["categories"] == {"wrong_result": len(GOLDS)}
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "wrong_result" in report and "gold returned" in report


def test_missing_database_is_a_user_error(data_dir: Path) -> None:
    (data_dir / "dbs" / "shop.db").unlink()
    assert main(["eval", "--data", str(data_dir / "test.jsonl"), "--pred", "gold", "--out",
                 str(data_dir / "o"), "--quiet"]) == 2


def test_bad_predictions_file_is_a_user_error(data_dir: Path) -> None:
    bad = data_dir / "bad.jsonl"
    bad.write_text('{"id": "q0", "text": "SELECT 1"}\n', encoding="utf-8")
    assert main(["eval", "--data", str(data_dir / "test.jsonl"), "--pred", str(bad), "--quiet"]) == 2


def test_eval_never_imports_torch(data_dir: Path) -> None:
    code = (
        "import sys\n"
        "from kosql.cli.main import main\n"
        f"rc = main(['eval', '--data', {str(data_dir / 'test.jsonl')!r}, '--pred', 'gold', "
        f"'--out', {str(data_dir / 'o3')!r}, '--quiet'])\n"
        "assert rc == 0, rc\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert 'transformers' not in sys.modules\n"
        "print('OK')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK" in proc.stdout


def _with_ids(data_dir: Path, ids: list[str]) -> Path:
    rows = [json.loads(line) for line in (data_dir / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    path = data_dir / "dup.jsonl"
    path.write_text("".join(json.dumps({**r, "id": i}, ensure_ascii=False) + "\n"
                            for r, i in zip(rows, ids, strict=False)), encoding="utf-8")
    return path


@pytest.mark.parametrize("pred", ["gold", "ids", "order"])
def test_dataset_rows_sharing_an_id_are_refused_not_merged(data_dir: Path, pred: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    data = _with_ids(data_dir, ["q0", "q1", "q1", "q3", "q0", "q5", "q6", "q7"])
    pred_path = data_dir / "p.jsonl"
    pred_path.write_text("".join(json.dumps({"sql": g} if pred == "order" else {"id": f"q{i}", "pred": g},
                                            ensure_ascii=False) + "\n" for i, g in enumerate(GOLDS)),
                         encoding="utf-8")
    out = data_dir / "ev"
    assert main(["eval", "--data", str(data), "--pred", "gold" if pred == "gold" else str(pred_path),
                 "--out", str(out), "--quiet", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "'q0', 'q1'" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_predictions_sharing_an_id_are_refused_with_the_ids(data_dir: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    pred_path = data_dir / "p.jsonl"
    ids = ["q0", "q1", "q2", "q2", "q4", "q0"]
    pred_path.write_text("".join(json.dumps({"id": i, "pred": "SELECT 1"}) + "\n" for i in ids), encoding="utf-8")
    assert main(["eval", "--data", str(data_dir / "test.jsonl"), "--pred", str(pred_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "'q0', 'q2'" in err and len(err.strip().splitlines()) == 1
