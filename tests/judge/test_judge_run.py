"""run_judge end to end against the fake server: one result per row, resume, repair, votes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from kosql.data.rows import Example
from kosql.errors import UserError
from kosql.evaluate.judge import JudgeSettings, JudgmentStore, build_items, run_judge
from kosql.evaluate.judge_report import final_verdicts, load_price_table, price_for, summarize, write_outputs
from kosql.http.client import ClientConfig
from kosql.testing.fake_openai_server import FakeOpenAIServer, ServerConfig


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    srv = FakeOpenAIServer(ServerConfig(retry_after="0.05", slow_seconds=1.0)).start()
    yield srv
    srv.stop()


def _examples(n: int, fault: str = "") -> tuple[list[Example], dict[str, str]]:
    examples = [Example(str(i), "db", "CREATE TABLE t (a INT, b TEXT);", f"질문 {i}",
                        f"SELECT b FROM t WHERE a = {i}") for i in range(n)]
    preds = {e.id: (e.answer if i % 3 else f"SELECT a FROM t WHERE a = {i}") + fault
             for i, e in enumerate(examples)}
    return examples, preds


def _cfg(srv: FakeOpenAIServer, **kw: float) -> ClientConfig:
    base = dict(base_url=srv.base_url, rpm=60000.0, tpm=None, concurrency=16, max_attempts=6,
                timeout=0.4, backoff_base=0.01, backoff_max=0.05)
    base.update(kw)
    return ClientConfig(**base)  # type: ignore[arg-type]


def _lines(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "judgments.jsonl").read_text().splitlines()]


def test_judge_run_with_faults_one_result_per_row(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.config.faults = 0.3
    server.config.fault_kinds = ("429", "500", "503", "slow", "drop", "badjson", "text", "errbody")
    examples, preds = _examples(60)
    items = build_items(examples, preds)
    run = run_judge(items, JudgeSettings(models=["fake-judge"]), _cfg(server), tmp_path, progress=False)
    lines = _lines(tmp_path)
    assert sorted(r["id"] for r in lines) == sorted(e.id for e in examples)  # exactly once each
    assert len(run.records) == 60 and run.sent == 60
    attempts = server.log.snapshot()["attempts"]
    assert max(attempts.values()) <= 6
    for rec in lines:
        if rec["status"] == "ok":
            assert rec["verdict"] in ("yes", "no", "unparsed")
            assert "error" not in (rec["raw"] or "").lower()  # no error body stored as a verdict
            if rec["verdict"] != "unparsed":
                i = int(rec["id"])
                assert rec["verdict"] == ("yes" if i % 3 else "no")
        else:  # an error body or a non-JSON body is retried like any transient error
            assert rec["verdict"] is None and rec["attempts"] == 6
    kinds = Counter(r.get("error_kind") or r["verdict"] for r in lines)
    assert kinds["yes"] + kinds["no"] > 30


def test_judge_run_resume_sends_only_missing(server: FakeOpenAIServer, tmp_path: Path) -> None:
    examples, preds = _examples(20)
    items = build_items(examples, preds)
    settings = JudgeSettings(models=["fake-judge"])
    run_judge(items[:12], settings, _cfg(server), tmp_path, progress=False)
    path = tmp_path / "judgments.jsonl"
    with path.open("a") as fh:
        fh.write('{"id": "12", "judge": "fake-ju')  # a torn last line, as after kill -9
    server.log.reset()
    run = run_judge(items, settings, _cfg(server), tmp_path, progress=False)
    assert run.sent == 8 and run.reused == 12
    assert any("torn" in n for n in run.repaired)
    assert len(server.log.snapshot()["entries"]) == 8
    assert sorted(int(r["id"]) for r in _lines(tmp_path)) == list(range(20))
    server.log.reset()
    run = run_judge(items, settings, _cfg(server), tmp_path, progress=False)
    assert run.sent == 0 and server.log.snapshot()["entries"] == []


def test_judge_run_failed_rows_retried_by_default_or_kept_on_request(server: FakeOpenAIServer,
                                                                     tmp_path: Path) -> None:
    examples, preds = _examples(6)
    preds["2"] += " /*fault:400,400*/"  # a 400 twice: not retried within a run
    items = build_items(examples, preds)
    settings = JudgeSettings(models=["fake-judge"], retry_failed=False)
    run_judge(items, settings, _cfg(server), tmp_path, progress=False)
    [failed] = [r for r in _lines(tmp_path) if r["status"] == "failed"]
    assert failed["id"] == "2" and failed["error_kind"] == "http_400" and failed["attempts"] == 1
    assert run_judge(items, settings, _cfg(server), tmp_path, progress=False).sent == 0  # kept
    settings = JudgeSettings(models=["fake-judge"])  # the default: a rerun retries failed rows
    run = run_judge(items, settings, _cfg(server), tmp_path, progress=False)  # attempt 2: another 400
    assert run.sent == 1
    run = run_judge(items, settings, _cfg(server), tmp_path, progress=False)  # attempt 3: succeeds
    lines = _lines(tmp_path)
    assert len(lines) == 6 and all(r["status"] == "ok" for r in lines)


def test_judge_run_changed_prediction_is_redone(server: FakeOpenAIServer, tmp_path: Path) -> None:
    examples, preds = _examples(5)
    settings = JudgeSettings(models=["fake-judge"])
    run_judge(build_items(examples, preds), settings, _cfg(server), tmp_path, progress=False)
    preds["1"] = "SELECT 42"
    run = run_judge(build_items(examples, preds), settings, _cfg(server), tmp_path, progress=False)
    assert run.sent == 1
    lines = _lines(tmp_path)
    assert len(lines) == 5 and {r["id"]: r["verdict"] for r in lines}["1"] == "no"


def test_judge_run_invalid_model_is_one_sentence(server: FakeOpenAIServer, tmp_path: Path) -> None:
    examples, preds = _examples(3)
    items = build_items(examples, preds)
    with pytest.raises(UserError, match="has no model 'nope'"):
        run_judge(items, JudgeSettings(models=["nope"]), _cfg(server), tmp_path, progress=False)
    assert not (tmp_path / "judgments.jsonl").exists()  # stopped by the /models check: no file made
    server.config.models_endpoint = False  # no /models: the first request's 404 tells
    with pytest.raises(UserError, match=r"has no model 'nope' \(HTTP 404 model_not_found\)"):
        run_judge(items, JudgeSettings(models=["nope"]), _cfg(server), tmp_path, progress=False)
    assert (tmp_path / "judgments.jsonl").read_text(encoding="utf-8") == ""  # no judgment recorded


def test_judge_majority_vote_and_report(server: FakeOpenAIServer, tmp_path: Path) -> None:
    examples, preds = _examples(9)
    preds["4"] += " /*fault:text**/"  # every judge answers text for row 4 -> unparsed
    items = build_items(examples, preds)
    models = ["fake-judge", "gpt-4o-mini", "gpt-4-turbo-preview"]
    run = run_judge(items, JudgeSettings(models=models), _cfg(server), tmp_path, progress=False)
    assert len(run.records) == 27
    ids = [it.id for it in items]
    finals = final_verdicts(ids, run.records, models)
    assert finals["0"]["verdict"] == "no" and finals["1"]["verdict"] == "yes"
    assert finals["4"]["verdict"] == "unparsed"
    ex = {i: (int(i) % 3 != 0) for i in ids}
    ex["1"] = False  # one disagreement
    summary = summarize(ids, run.records, models, prices=load_price_table(None), ex=ex)
    assert summary["verdicts"]["yes"] == 5 and summary["verdicts"]["no"] == 3
    assert summary["yes_rate"] == pytest.approx(5 / 8)
    lo, hi = summary["yes_rate_ci95"]
    assert lo < 5 / 8 < hi
    assert summary["per_judge"]["fake-judge"]["cost_usd_estimate"] is None  # no price known
    assert summary["cost_usd_estimate"] is None
    assert summary["per_judge"]["gpt-4o-mini"]["cost_usd_estimate"] > 0
    agr = summary["agreement_with_ex"]
    assert [d["id"] for d in agr["disagreements"]] == ["1"] and agr["n"] == 8
    csv_path, summary_path = write_outputs(tmp_path, ids, run.records, models, summary, ex)
    rows = csv_path.read_text().splitlines()
    assert len(rows) == 10 and rows[0].startswith("id,verdict,judge:fake-judge")
    assert json.loads(summary_path.read_text())["rows"] == 9


def test_judge_price_table_file(tmp_path: Path) -> None:
    p = tmp_path / "prices.yaml"
    p.write_text("my-judge: {input: 1.0, output: 2.0}\ngpt-4o-mini: [0.2, 0.8]\n")
    table = load_price_table(p)
    assert price_for("my-judge", table) == (1.0, 2.0)
    assert price_for("gpt-4o-mini-2024-07-18", table) == (0.2, 0.8)  # longest prefix
    assert price_for("gpt-4o-2024-08-06", table) == (2.5, 10.0)
    p.write_text("x: {input: cheap}\n")
    with pytest.raises(UserError, match="entry 'x'"):
        load_price_table(p)


def test_judge_store_rejects_corrupt_middle_line(tmp_path: Path) -> None:
    path = tmp_path / "judgments.jsonl"
    path.write_text('{"id": "1", "judge": "m"}\nnot json\n{"id": "2", "judge": "m"}\n')
    with pytest.raises(UserError, match="line 2 is not valid JSON"):
        JudgmentStore(path).load()
