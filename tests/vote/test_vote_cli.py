"""`kosql generate --vote 4` and `kosql ask --vote 4` with a scripted backend: the winner, its share,
the candidates in the predictions file, the vote in the .meta.json record, the confidence printed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kosql.cli.main import main

GREEDY = "SELECT count(*) FROM orders"  # 5: every order, not those of 2024
SAMPLES = ["SELECT count(*) FROM orders WHERE YEAR(ordered_at) = 2024",  # 3, once transpiled for SQLite
           "SELECT COUNT(order_id) FROM orders WHERE ordered_at >= '2024-01-01'",  # 3
           "SELECT count(*) FROM orders WHERE order_date LIKE '2024%'",  # unknown column: retried once
           "SELECT count(*) FROM orders WHERE strftime('%Y', ordered_at) = '2023'"]  # 2
FOLLOWUP = "SELECT count(*) FROM orders WHERE ordered_at LIKE '2024%'"  # 3


@pytest.fixture
def patched(monkeypatch: pytest.MonkeyPatch, scripted: Any) -> Any:
    backend = scripted(greedy=GREEDY, samples=SAMPLES, followup=FOLLOWUP)
    monkeypatch.setattr("kosql.models.registry.load_backend", lambda *a, **k: backend)
    return backend


def test_generate_vote_4_records_the_winner_share_and_candidates(orders_data: Path, patched: Any, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "preds.jsonl"
    argv = ["generate", "--data", str(orders_data), "--backend", "fake", "--model", "m", "--vote", "4",
            "--out", str(out)]
    assert main(argv) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2
    row = rows[0]
    vote = row["vote"]
    assert vote["k"] == 4 and vote["greedy"] == GREEDY and not vote["greedy_agreed"]
    assert vote["share"] == 0.6 and vote["groups"] == [3, 1, 1]  # the 2024 count: transpiled, as written, retried
    assert row["pred"].upper().startswith("SELECT COUNT(*) FROM ORDERS WHERE CAST(STRFTIME('%Y'")
    cands = vote["candidates"]
    assert [c["origin"] for c in cands] == ["greedy"] + ["sample"] * 4
    assert cands[1]["repair"]["how"] == "transpiled" and cands[1]["repair"]["sql"] == SAMPLES[0]
    assert cands[3]["repair"]["how"] == "retried" and cands[3]["sql"] == FOLLOWUP and cands[3]["group"] == 0
    assert cands[0]["group"] != 0 and cands[4]["group"] != 0
    assert patched.sample_calls == 2 and len(patched.retries()) == 2  # one sampling call, one retry per row
    assert json.loads(Path(str(out) + ".meta.json").read_text(encoding="utf-8"))["vote"] == 4
    said = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert "vote (k = 4): 2 rows; the greedy answer won in 0, 2 rows got another SQL; mean share 60%" in said
    # resuming with another k is refused in one sentence
    argv[argv.index("--vote") + 1] = "2"
    assert main(argv) == 2
    assert "vote=4" in capsys.readouterr().err


def test_generate_vote_needs_each_rows_database(tmp_path: Path, patched: Any,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "nodb.jsonl"
    data.write_text(json.dumps({"id": "a", "db_id": "d", "context": "CREATE TABLE t (a INT);", "question": "q",
                                "answer": "SELECT a FROM t"}) + "\n", encoding="utf-8")
    code = main(["generate", "--data", str(data), "--backend", "fake", "--model", "m", "--vote", "2",
                 "--out", str(tmp_path / "p.jsonl")])
    assert code == 2 and "row 'a' cannot be voted on: it has no db_path" in capsys.readouterr().err


def test_ask_vote_4_prints_the_confidence(orders_db: Path, patched: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ask", "2024년에 주문된 건수는?", "--db", str(orders_db), "--backend", "fake", "--model", "m",
                 "--vote", "4"])
    out = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert code == 0, out
    assert "Confidence: 60% (3 of 5 candidates return this result; the greedy answer disagrees)." in out
    assert "1 rows" in out and "Not sure" not in out
    # above the share, kosql says it is not sure and lists the candidates instead of the rows (exit 1)
    code = main(["ask", "2024년에 주문된 건수는?", "--db", str(orders_db), "--backend", "fake", "--model", "m",
                 "--vote", "4", "--min-confidence", "0.7", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1 and result["vote"]["confident"] is False and result["vote"]["share"] == 0.6
    code = main(["ask", "2024년에 주문된 건수는?", "--db", str(orders_db), "--backend", "fake", "--model", "m",
                 "--vote", "4", "--min-confidence", "0.7"])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 1 and "Not sure: confidence 60%, below --min-confidence 70%" in out
    assert f"[1 vote] {GREEDY}" in out and f"[3 votes] {FOLLOWUP}" in out and "rows" not in out.split("Not sure")[1]
