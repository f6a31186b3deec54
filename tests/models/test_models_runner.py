"""The prediction runner with the fake backend: output format, resume, Ctrl-C, repair of a cut line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from kosql.data.rows import Example
from kosql.errors import UserError
from kosql.models.base import Backend, Generation, GenerationParams
from kosql.models.fake import FakeBackend
from kosql.models.runner import PRED_KEYS, dataset_record, generate_predictions, read_existing, repair_summary


def _examples(n: int) -> list[Example]:
    return [
        Example(id=f"r{i}", db_id="shop", context=f"CREATE TABLE t{i} (id INT, 이름 TEXT);",
                question=f"질문 {i}" + "?" * (i % 5), answer=f"SELECT * FROM t{i};")
        for i in range(n)
    ]


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_fake_backend_is_a_backend() -> None:
    assert isinstance(FakeBackend(), Backend)


def test_writes_every_row_with_the_contract_keys(tmp_path: Path) -> None:
    out = tmp_path / "preds.jsonl"
    rows = generate_predictions(_examples(11), FakeBackend(name="fake-m"), out, batch_size=4, progress=False)
    assert [r["id"] for r in rows] == [f"r{i}" for i in range(11)]  # input order
    lines = _lines(out)
    assert sorted(r["id"] for r in lines) == sorted(f"r{i}" for i in range(11))
    for row in lines:
        assert tuple(row) == PRED_KEYS
        assert row["model"] == "fake-m"
        assert row["pred"] == f"SELECT * FROM t{row['id'][1:]};"  # extracted, chatter dropped
        assert "### SQL 봇" in row["raw"]
        assert row["completion_tokens"] > 0 and row["prompt_tokens"] > 0


def test_rerun_skips_done_rows(tmp_path: Path) -> None:
    out = tmp_path / "preds.jsonl"
    whole = dataset_record(_examples(8))  # 5, then 8 rows of one dataset
    generate_predictions(_examples(5), FakeBackend(), out, batch_size=2, progress=False, dataset=whole)
    backend = FakeBackend()
    rows = generate_predictions(_examples(8), backend, out, batch_size=2, progress=False, dataset=whole)
    assert len(backend.seen) == 3  # only the 3 new rows were generated
    assert len(rows) == 8
    ids = [r["id"] for r in _lines(out)]
    assert sorted(ids) == sorted(f"r{i}" for i in range(8)) and len(ids) == len(set(ids))


def test_no_resume_starts_afresh(tmp_path: Path) -> None:
    out = tmp_path / "preds.jsonl"
    generate_predictions(_examples(3), FakeBackend(), out, progress=False)
    backend = FakeBackend()
    generate_predictions(_examples(3), backend, out, resume=False, progress=False)
    assert len(backend.seen) == 3 and len(_lines(out)) == 3


def test_ctrl_c_leaves_a_valid_file_and_resume_completes_exactly_once(tmp_path: Path) -> None:
    out = tmp_path / "preds.jsonl"
    examples = _examples(23)
    with pytest.raises(KeyboardInterrupt):
        generate_predictions(examples, FakeBackend(fail_after=10), out, batch_size=4, progress=False)
    partial = _lines(out)  # every line parses
    assert 0 < len(partial) < 23 and len(partial) % 4 == 0
    backend = FakeBackend()
    rows = generate_predictions(examples, backend, out, batch_size=4, progress=False)
    assert len(backend.seen) == 23 - len(partial)
    ids = [r["id"] for r in _lines(out)]
    assert sorted(ids) == sorted(e.id for e in examples)
    assert len(ids) == len(set(ids)) == 23
    assert [r["id"] for r in rows] == [e.id for e in examples]


def test_line_cut_by_a_kill_is_repaired_on_resume(tmp_path: Path) -> None:
    out = tmp_path / "preds.jsonl"
    whole = dataset_record(_examples(8))  # 4, then 8 rows of one dataset
    generate_predictions(_examples(4), FakeBackend(), out, progress=False, dataset=whole)
    with out.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "r7", "pred": "SELECT * FR')  # a kill in the middle of a write
    done = read_existing(out)
    assert sorted(done) == ["r0", "r1", "r2", "r3"]
    assert out.read_text(encoding="utf-8").endswith("}\n")
    backend = FakeBackend()
    generate_predictions(_examples(8), backend, out, progress=False, dataset=whole)
    ids = [r["id"] for r in _lines(out)]
    assert sorted(ids) == sorted(f"r{i}" for i in range(8)) and len(ids) == 8


def test_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "preds.jsonl"
    out.write_text('{"id": "r0", "pred": "SELECT 1;"}', encoding="utf-8")
    assert list(read_existing(out)) == ["r0"]
    generate_predictions(_examples(2), FakeBackend(), out, progress=False)
    assert [r["id"] for r in _lines(out)] == ["r0", "r1"]


def test_corrupt_middle_line_is_a_user_error(tmp_path: Path) -> None:
    out = tmp_path / "preds.jsonl"
    out.write_text('{"id": "r0", "pred": ""}\nnot json\n{"id": "r1", "pred": ""}\n', encoding="utf-8")
    with pytest.raises(UserError, match="line 2"):
        generate_predictions(_examples(2), FakeBackend(), out, progress=False)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    ex = _examples(2)
    ex[1].id = ex[0].id
    with pytest.raises(UserError, match="r0"):
        generate_predictions(ex, FakeBackend(), tmp_path / "p.jsonl", progress=False)


def test_chat_format_without_tokenizer_sends_the_user_message(tmp_path: Path) -> None:
    backend = FakeBackend()
    generate_predictions(_examples(1), backend, tmp_path / "p.jsonl", prompt_format="chat", progress=False)
    assert backend.seen[0].startswith("당신은 SQL을 생성하는 SQL 봇입니다.")
    assert backend.seen[0].endswith("### SQL:")


def test_params_max_new_tokens_reaches_the_backend(tmp_path: Path) -> None:
    rows = generate_predictions(_examples(2), FakeBackend(), tmp_path / "p.jsonl", progress=False,
                                params=GenerationParams(max_new_tokens=2))
    assert all(r["completion_tokens"] == 2 for r in rows)


def test_progress_bar_runs(tmp_path: Path) -> None:
    rows = generate_predictions(_examples(3), FakeBackend(), tmp_path / "p.jsonl", progress=True)
    assert len(rows) == 3


def test_build_prompts_compact_and_unknown_format() -> None:
    from kosql.models.runner import build_prompts

    ex = Example(id="1", db_id="d", context="CREATE TABLE t (\n  a INT NOT NULL,\n  b VARCHAR(20)\n);",
                 question="a의 합은?", answer="SELECT SUM(a) FROM t;")
    (prompt,) = build_prompts([ex], FakeBackend(), "compact")
    assert "CREATE TABLE t (a INT, b VARCHAR);" in prompt and "NOT NULL" not in prompt
    with pytest.raises(UserError, match="seed, compact, chat"):
        build_prompts([ex], FakeBackend(), "fancy")


class _ScriptedBackend:
    """Greedy answers from ``greedy``; beam requests get ``beams`` (candidate lists per question)."""

    name = "scripted"

    def __init__(self, greedy: dict[str, str], beams: dict[str, list[str]]) -> None:
        self.greedy, self.beams, self.beam_calls = greedy, beams, 0

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        out = []
        for prompt in prompts:
            key = next(k for k in self.greedy if k in prompt)
            if params.num_beams > 1:
                self.beam_calls += 1
                cands = self.beams[key][:params.num_return_sequences]
                out += [Generation(text=c, completion_tokens=3) for c in cands]
            else:
                out.append(Generation(text=self.greedy[key], completion_tokens=3))
        return out


def test_schema_checked_decoding_replaces_only_sql_that_does_not_compile(tmp_path: Path) -> None:
    ddl = "CREATE TABLE users (user_id INT PRIMARY KEY, name VARCHAR(20), email VARCHAR(50));"
    rows = [Example(id=q, db_id="d", context=ddl, question=q, answer="SELECT 1;") for q in ("qa", "qb", "qc")]
    backend = _ScriptedBackend(
        greedy={"qa": "SELECT name FROM users;", "qb": "SELECT mail FROM users;", "qc": "SELECT x FROM y;"},
        beams={"qb": ["SELECT mail FROM users;", "SELECT email FROM users;", "SELECT name FROM users;"],
               "qc": ["SELECT x FROM y;", "SELECT z FROM y;", "SELEC"]})
    out = tmp_path / "p.jsonl"
    got = {r["id"]: r for r in generate_predictions(rows, backend, out, progress=False, repair_beams=3)}
    assert backend.beam_calls == 2  # qa compiled: no beams for it
    assert got["qa"]["pred"] == "SELECT name FROM users;" and "repair" not in got["qa"]
    # the most likely candidate that compiles wins (not the first beam, which repeats the error)
    assert got["qb"]["pred"] == "SELECT email FROM users;"
    assert got["qb"]["repair"]["candidate"] == 1 and got["qb"]["repair"]["greedy"] == "SELECT mail FROM users;"
    assert "no such column: mail" in got["qb"]["repair"]["error"]
    assert got["qc"]["pred"] == "SELECT x FROM y;" and got["qc"]["repair"]["candidate"] is None
    assert "1 replaced" in repair_summary(list(got.values())) and "2 of 3" in repair_summary(list(got.values()))
    with pytest.raises(UserError, match="at least 2"):
        generate_predictions(rows, backend, tmp_path / "q.jsonl", progress=False, repair_beams=1)


class _BatchRecorder(FakeBackend):
    batches: list[list[str]]

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        self.batches.append([p.split("CREATE TABLE ")[1].split(" ")[0] for p in prompts])
        return super().generate(prompts, params)


@pytest.mark.parametrize("prefix_cache", [True, False])
def test_a_prefix_caching_backend_gets_one_schema_per_batch(tmp_path: Path, prefix_cache: bool) -> None:
    examples = [Example(id=f"r{i}", db_id=f"db{i % 3}", context=f"CREATE TABLE t{i % 3} (id INT, 이름 TEXT);",
                        question="질문" + "?" * (i % 7), answer=f"SELECT * FROM t{i % 3};") for i in range(12)]
    backend = _BatchRecorder()
    backend.batches = []
    backend.prefix_cache = prefix_cache  # type: ignore[attr-defined]
    rows = generate_predictions(examples, backend, tmp_path / "p.jsonl", batch_size=4, progress=False)
    assert [r["id"] for r in rows] == [e.id for e in examples]
    one_schema = all(len(set(b)) == 1 for b in backend.batches)
    assert one_schema == prefix_cache  # length order mixes the schemas
