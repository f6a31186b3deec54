"""`kosql generate` never loses an input or mixes two models, and a failed request is never an answer."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from kosql.cli.main import main
from kosql.data.rows import Example
from kosql.errors import UserError
from kosql.models.base import Generation, GenerationParams
from kosql.models.openai_backend import OpenAIBackend
from kosql.models.runner import candidate_params, generate_predictions, meta_path
from kosql.testing.fake_openai_server import FakeOpenAIServer, ServerConfig


def _data(path: Path, questions: Sequence[str] = ("질문 0", "질문 1", "질문 2")) -> Path:
    rows = [{"id": f"r{i}", "db_id": "d", "context": "CREATE TABLE t (a INT);", "question": q,
             "answer": "SELECT a FROM t;"} for i, q in enumerate(questions)]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    srv = FakeOpenAIServer(ServerConfig(retry_after="0")).start()
    yield srv
    srv.stop()


@pytest.mark.parametrize("extra", [[], ["--no-resume"]])
def test_out_equal_to_data_is_refused_and_the_data_kept(tmp_path: Path, extra: list[str],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    data = _data(tmp_path / "test.jsonl")
    before = data.read_bytes()
    (tmp_path / "link.jsonl").symlink_to(data)
    os.link(data, tmp_path / "hard.jsonl")
    for out in (str(data), str(tmp_path / "." / "test.jsonl"), str(tmp_path / "link.jsonl"),
                str(tmp_path / "hard.jsonl")):
        code = main(["generate", "--data", str(data), "--backend", "fake", "--out", out, *extra])
        assert code == 2
        assert "is the input file" in capsys.readouterr().err
    assert data.read_bytes() == before


def test_a_dataset_is_not_resumed_as_predictions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _data(tmp_path / "test.jsonl")
    other = tmp_path / "copy.jsonl"
    other.write_bytes(data.read_bytes())
    assert main(["generate", "--data", str(data), "--backend", "fake", "--out", str(other)]) == 2
    assert "not a kosql predictions file" in capsys.readouterr().err
    assert other.read_bytes() == data.read_bytes()


def test_resume_refuses_another_model_or_decoding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, out = _data(tmp_path / "test.jsonl"), tmp_path / "preds.jsonl"
    base = ["generate", "--data", str(data), "--backend", "fake", "--out", str(out)]
    assert main([*base, "--model", "model-a", "--limit", "2"]) == 0
    meta = json.loads(meta_path(out).read_text(encoding="utf-8"))
    assert meta["model"] == "model-a" and meta["prompt_format"] == "seed"
    assert meta["decoding"]["temperature"] == 0.0 and meta["backend"] == "fake"
    before = out.read_bytes()
    capsys.readouterr()
    for other, needle in ((["--model", "model-b"], "model='model-a', not 'model-b'"),
                          (["--model", "model-a", "--temperature", "0.5"], "decoding="),
                          (["--model", "model-a", "--max-new-tokens", "7"], "decoding="),
                          (["--model", "model-a", "--prompt-format", "chat"], "prompt_format='seed'")):
        assert main([*base, *other]) == 2
        err = capsys.readouterr().err
        assert needle in err and "--no-resume" in err and len(err.strip().splitlines()) == 1
        assert out.read_bytes() == before
    assert main([*base, "--model", "model-a"]) == 0  # the same settings resume
    assert [r["id"] for r in _lines(out)] == ["r0", "r1", "r2"]
    # a file from before the record (no .meta.json) is still checked by its rows' model
    meta_path(out).unlink()
    assert main([*base, "--model", "model-b"]) == 2
    assert "predictions of the model 'model-a'" in capsys.readouterr().err
    assert main([*base, "--model", "model-b", "--no-resume"]) == 0
    assert {r["model"] for r in _lines(out)} == {"model-b"}


def test_resume_refuses_another_dataset_with_the_same_ids(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    data, out = _data(tmp_path / "test.jsonl"), tmp_path / "preds.jsonl"
    other = _data(tmp_path / "other.jsonl", ["다른 질문 0", "다른 질문 1", "다른 질문 2"])  # same ids r0..r2
    base = ["generate", "--backend", "fake", "--out", str(out)]
    assert main([*base, "--data", str(data), "--limit", "1"]) == 0
    meta = json.loads(meta_path(out).read_text(encoding="utf-8"))
    assert meta["dataset"]["spec"] == str(data) and meta["dataset"]["rows"] == 3
    before = out.read_bytes()
    capsys.readouterr()
    assert main([*base, "--data", str(other)]) == 2
    err = capsys.readouterr().err
    assert str(other) in err and "--no-resume" in err and len(err.strip().splitlines()) == 1
    assert out.read_bytes() == before
    # the same rows under another name, in another order, with another --limit resume
    moved = tmp_path / "moved.jsonl"
    moved.write_text("".join(reversed(data.read_text(encoding="utf-8").splitlines(keepends=True))), encoding="utf-8")
    assert main([*base, "--data", str(moved)]) == 0
    assert sorted(r["id"] for r in _lines(out)) == ["r0", "r1", "r2"]
    assert main([*base, "--data", str(other), "--no-resume"]) == 0


def test_generate_predictions_records_the_rows_it_was_given(tmp_path: Path) -> None:
    rows = [Example(id="0", db_id="d", context="CREATE TABLE t (a INT);", question="q", answer="SELECT a FROM t;")]
    out = tmp_path / "p.jsonl"
    generate_predictions(rows, _Recorder(), out, progress=False)
    commented = [Example(id="0", db_id="d", context="CREATE TABLE t (a INT COMMENT '값');", question="q",
                         answer="SELECT a FROM t;")]
    with pytest.raises(UserError, match="holds predictions for a dataset"):
        generate_predictions(commented, _Recorder(), out, progress=False)


def test_failed_requests_are_stored_failed_retried_and_scored_apart(
        server: FakeOpenAIServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the second row's first attempt is an HTTP 400 (not retried): the request fails once
    data = _data(tmp_path / "test.jsonl", ["질문 0", "질문 1 /*fault:400*/", "질문 2"])
    out = tmp_path / "preds.jsonl"
    args = ["generate", "--data", str(data), "--backend", "openai", "--model", "fake-judge",
            "--base-url", server.base_url, "--rpm", "6000", "--out", str(out)]
    assert main(args) == 1
    assert "1 rows failed to generate" in capsys.readouterr().err
    rows = {r["id"]: r for r in _lines(out)}
    assert rows["r1"]["status"] == "failed" and "http_400" in rows["r1"]["error"] and rows["r1"]["pred"] == ""
    assert rows["r0"]["pred"] == "SELECT 1;" and "status" not in rows["r0"]

    assert main(["eval", "--data", str(data), "--pred", str(out), "--no-testsuite", "--quiet",
                 "--workers", "1", "--out", str(tmp_path / "ev")]) == 0
    assert "1 rows failed to generate" in capsys.readouterr().err
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["categories"].get("generation_failed") == 1
    assert "empty_prediction" not in metrics["categories"]
    per_row = {r["id"]: r for r in _lines(tmp_path / "ev" / "per_row.jsonl")}
    assert per_row["r1"]["category"] == "generation_failed" and "http_400" in per_row["r1"]["error"]

    assert main(args) == 0  # the rerun sends the failed row again (its second attempt succeeds)
    rows_after = _lines(out)
    assert sorted(r["id"] for r in rows_after) == ["r0", "r1", "r2"]  # each id once
    assert all(r.get("status") != "failed" and r["pred"] == "SELECT 1;" for r in rows_after)


class _Recorder:
    name = "recorder"
    beam_search = False

    def __init__(self) -> None:
        self.calls: list[GenerationParams] = []

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        self.calls.append(params)
        n = max(1, params.num_return_sequences)
        if n == 1:
            return [Generation(text="SELECT b FROM t;") for _ in prompts]
        return [Generation(text="SELECT b FROM t;" if k == 0 else "SELECT a FROM t;")
                for _ in prompts for k in range(n)]


def test_repair_candidates_are_sampled_without_beam_search(tmp_path: Path) -> None:
    ex = [Example(id="x", db_id="d", context="CREATE TABLE t (a INT);", question="q", answer="SELECT a FROM t;")]
    backend = _Recorder()
    rows = generate_predictions(ex, backend, tmp_path / "p.jsonl", progress=False, repair_beams=3)
    cand = backend.calls[1]
    assert cand.num_return_sequences == 3 and cand.num_beams == 1 and cand.temperature > 0
    assert rows[0]["pred"] == "SELECT a FROM t;" and rows[0]["repair"]["candidate"] == 1
    # the openai backend sends each candidate with its own seed at that temperature
    api = OpenAIBackend("m", base_url="http://127.0.0.1:9/v1")
    params = candidate_params(api, GenerationParams(), 3)
    bodies = [api._body(params, k) for k in range(3)]
    assert all(b["temperature"] > 0 for b in bodies) and len({b["seed"] for b in bodies}) == 3


def test_generate_with_a_bundled_dataset(tmp_path: Path) -> None:
    out = tmp_path / "p.jsonl"
    assert main(["generate", "--data", "bundled:small", "--backend", "fake", "--limit", "2",
                 "--out", str(out)]) == 0
    assert len(_lines(out)) == 2
