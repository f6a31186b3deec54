"""`kosql adapt`: synth -> (monkeypatched) LoRA training -> base vs adapted report, on a SQLite file and a
PostgreSQL server it never saw; bad inputs refused before anything is written."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kosql.errors import UserError
from kosql.pipeline.adapt import AdaptOptions, plan_adapt, run_adapt
from kosql.testing.shop import SHOP, make_shop


def fake_train(calls: list[list[str]]) -> Any:
    """Stands in for the LoRA run: records its overrides and writes an adapter folder."""
    def train(config: str | None, overrides: list[str], output_dir: Path, *,
              planned_seconds: float | None = None) -> tuple[Path, dict[str, Any]]:
        calls.append(list(overrides))
        (output_dir / "adapter").mkdir(parents=True, exist_ok=True)
        (output_dir / "adapter" / "adapter_config.json").write_text(
            json.dumps({"base_model_name_or_path": "smollm2-135m", "peft_type": "LORA"}), encoding="utf-8")
        (output_dir / "metrics.json").write_text(json.dumps({"train_loss": 1.0}), encoding="utf-8")
        return output_dir, {"train_loss": 1.0}

    return train


def _opts(db: str, out: Path, **kw: Any) -> AdaptOptions:
    base: dict[str, Any] = {"model": "smollm2-135m", "steps": 2, "backend": "fake", "max_queries": 40,
                            "test_rows": 12, "feedback": out.parent / "no-feedback.jsonl", "general": "none"}
    return AdaptOptions(db=db, out=out, **{**base, **kw})


def test_adapt_runs_end_to_end_on_a_new_sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = make_shop(tmp_path / "shop.sqlite")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"question": "서울 고객은 몇 명?",
                                "answer": "SELECT COUNT(*) FROM customers WHERE city = '서울'"}, ensure_ascii=False)
                    + "\n", encoding="utf-8")
    feedback = tmp_path / "feedback.jsonl"
    feedback.write_text(json.dumps({"question": "상품 수", "answer": "SELECT COUNT(*) FROM products",
                                    "db_path": str(db), "db_id": "shop", "context": ""}, ensure_ascii=False)
                        + "\n" + json.dumps({"question": "x", "answer": "SELECT 1", "db_path": "/elsewhere.sqlite"})
                        + "\n", encoding="utf-8")
    calls: list[list[str]] = []
    monkeypatch.setattr("kosql.pipeline.adapt.train_sft_run", fake_train(calls))
    out = tmp_path / "run"
    summary = run_adapt(_opts(str(db), out, gold=gold, feedback=feedback))
    assert calls and "train.max_steps=2" in calls[0] and f"data.train={out / 'train-rows.jsonl'}" in calls[0]
    own = (out / "data" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted((out / "train-rows.jsonl").read_text(encoding="utf-8").splitlines()) == sorted(own)  # --general none
    assert summary["train_rows"] == {"database": len(own), "general": 0, "general_source": "none"}
    assert (out / "train" / "adapter" / "adapter_config.json").exists()
    assert 1 <= summary["eval_rows"].pop("synthetic") <= 12  # --test-rows caps the held-out rows
    assert summary["eval_rows"] == {"gold": 1, "feedback": 1}  # the other database's correction is not used
    gold_rows = [json.loads(x) for x in (out / "base" / "gold" / "eval" / "per_row.jsonl").read_text().splitlines()]
    assert gold_rows[0]["method"] == "ex"  # executed on the SQLite file, not left unscored
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "your questions" in report and "McNemar" in report and (out / "report.html").exists()
    assert set(summary["results"]) == {"synthetic", "gold", "feedback"}
    # the same --out resumes (the synthesized rows are reused, not written again); other options are refused
    stamp = (out / "data" / "train.jsonl").stat().st_mtime_ns
    run_adapt(_opts(str(db), out, gold=gold, feedback=feedback))
    assert (out / "data" / "train.jsonl").stat().st_mtime_ns == stamp
    with pytest.raises(UserError, match="steps"):
        run_adapt(_opts(str(db), out, gold=gold, feedback=feedback, steps=3))


def test_the_time_box_decides_the_training_steps(tmp_path: Path) -> None:
    db = str(make_shop(tmp_path / "shop.sqlite"))
    short = plan_adapt(_opts(db, tmp_path / "a", steps=None, minutes=10, model="qwen2.5-coder-0.5b"))
    long = plan_adapt(_opts(db, tmp_path / "b", steps=None, minutes=40, model="qwen2.5-coder-0.5b"))
    assert 10 <= short.max_steps < long.max_steps
    assert f"train.max_steps={long.max_steps}" in long.overrides
    fixed = plan_adapt(_opts(db, tmp_path / "c", steps=None, train_overrides=["train.max_steps=7"]))
    assert fixed.max_steps == 7 and not (tmp_path / "a").exists()


def _empty(path: Path) -> str:
    sqlite3.connect(path).close()
    return str(path)


def _only_empty_table(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (a INTEGER)")
    conn.commit()
    conn.close()
    return str(path)


@pytest.mark.parametrize(("make", "names", "message"), [
    (lambda p: str(p / "missing.sqlite"), None, "no SQLite file"),
    (lambda p: _empty(p / "empty.sqlite"), None, "no tables"),
    (lambda p: _only_empty_table(p / "t.sqlite"), None, "empty"),
    (lambda p: str((p / "junk.sqlite").write_bytes(b"not a database" * 100) and p / "junk.sqlite"), None, "junk"),
    (lambda p: str(make_shop(p / "shop.sqlite")), "nosuch_column: 이름", "nosuch_column"),
    (lambda p: "postgresql://nobody:pw@127.0.0.1:1/none", None, "."),
    (lambda p: str(make_shop(p / "shop.sqlite")), "--general-share=1", "--general-share"),
    (lambda p: str(make_shop(p / "shop.sqlite")), "--general=bundled:nosuch", "--general"),
])
def test_bad_input_is_one_sentence_exit_2_and_nothing_written(tmp_path: Path, make: Any, names: str | None,
                                                              message: str, capsys: pytest.CaptureFixture[str]) -> None:
    from kosql.cli.main import main

    db = make(tmp_path)
    args = ["adapt", "--db", db, "--out", str(tmp_path / "out"), "--steps", "1"]
    if names and names.startswith("--"):
        args += [names]
    elif names:
        (tmp_path / "names.txt").write_text(names + "\n", encoding="utf-8")
        args += ["--names", str(tmp_path / "names.txt")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_general_rows_make_their_share_of_the_training_rows(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from kosql.data.rows import read_jsonl
    from kosql.data.synth.varied import generate_varied

    generate_varied(tmp_path / "general", seed=0, schemas=8, dev_schemas=2, queries=12)
    pool = {r.id for r in read_jsonl(tmp_path / "general" / "train.jsonl")}
    db = make_shop(tmp_path / "shop.sqlite")
    calls: list[list[str]] = []
    monkeypatch.setattr("kosql.pipeline.adapt.train_sft_run", fake_train(calls))
    out = tmp_path / "run"
    summary = run_adapt(_opts(str(db), out, max_queries=20, general=str(tmp_path / "general"), general_share=0.5))
    own = read_jsonl(out / "data" / "train.jsonl")
    rows = read_jsonl(out / "train-rows.jsonl")
    general = [r for r in rows if r.id in pool]
    assert len(general) == len(own) == summary["train_rows"]["general"] > 0  # half of the rows at share 0.5
    assert {r.id for r in rows} - pool == {r.id for r in own}
    assert [r.id for r in rows[:len(own)]] != [r.id for r in own]  # shuffled together, not appended
    assert f"data.train={out / 'train-rows.jsonl'}" in calls[0]
    with pytest.raises(UserError, match="general-share"):
        plan_adapt(_opts(str(db), tmp_path / "x", general_share=1.0))
    with pytest.raises(UserError, match="--general"):
        plan_adapt(_opts(str(db), tmp_path / "y", general=str(tmp_path / "nothing-here")))


def test_the_adapter_folder_works_with_kosql_ask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kosql.cli.main import main
    from kosql.pipeline.adapt import ask_command

    db = make_shop(tmp_path / "shop.sqlite")
    monkeypatch.setattr("kosql.pipeline.adapt.train_sft_run", fake_train([]))
    out = tmp_path / "run"
    run_adapt(_opts(str(db), out))
    line = ask_command(plan_adapt(_opts(str(db), out)))
    assert f"--adapter {out / 'train' / 'adapter'}" in line and "--model smollm2-135m" in line
    assert main(["ask", "--db", str(db), "--backend", "fake", "--model", "smollm2-135m",
                 "--adapter", str(out / "train" / "adapter"), "고객 목록"]) == 0


@pytest.fixture(scope="module")
def shop_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server holding the shop database (its URL, with the password)."""
    import psycopg

    from kosql.testing.postgres import postgres_available, start_postgres

    if not postgres_available():
        pytest.skip("PostgreSQL is not installed and apt-get is not available here (as root)")
    server = start_postgres()
    try:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE shop")
        src = sqlite3.connect(make_shop(tmp_path_factory.mktemp("pg") / "shop.sqlite"))
        with psycopg.connect(server.url(database="shop"), autocommit=True) as conn:
            for stmt in SHOP.replace("INTEGER PRIMARY KEY", "INTEGER PRIMARY KEY").split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            for table in ("customers", "products", "orders"):
                rows = src.execute(f"SELECT * FROM {table}").fetchall()
                marks = ", ".join(["%s"] * len(rows[0]))
                with conn.cursor() as cur:
                    cur.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        yield server.url(database="shop")
    finally:
        server.stop()


def test_postgres_rows_are_scored_on_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                shop_pg: str) -> None:
    monkeypatch.setattr("kosql.pipeline.adapt.train_sft_run", fake_train([]))
    out = tmp_path / "run"
    summary = run_adapt(_opts(shop_pg, out, max_queries=30))
    rows = [json.loads(x) for x in (out / "adapted" / "synthetic" / "eval" / "per_row.jsonl").read_text().splitlines()]
    assert rows and all(r["method"] == "ex" for r in rows if r["category"] != "generation_failed")
    assert any(r["ex"] is not None for r in rows)
    on_disk = (out / "sets" / "synthetic.jsonl").read_text(encoding="utf-8") + (out / "options.json").read_text()
    assert "kosql-test-superuser" not in on_disk
    assert summary["paired"]["synthetic"]["n"] == len(rows)


def test_the_verbalizer_step_runs_once_and_counts_in_the_time_box(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from kosql.models.fake import FakeBackend

    db = make_shop(tmp_path / "shop.sqlite")
    loads: list[str] = []

    def load(model: str, url: str | None = None) -> FakeBackend:
        loads.append(model)
        return FakeBackend(name=model, reply=lambda p: "손님 수 좀 알려줘" if "바꾼 질문:" in p else "SELECT 1;")

    monkeypatch.setattr("kosql.pipeline.verbalize.load_verbalizer", load)
    monkeypatch.setattr("kosql.pipeline.adapt.train_sft_run", fake_train([]))
    out = tmp_path / "run"
    opts = _opts(str(db), out, verbalizer_model="smollm2-135m", verbalize=5)
    assert plan_adapt(opts).guesses["data"] > plan_adapt(_opts(str(db), out)).guesses["data"]
    summary = run_adapt(opts)
    v = summary["data"]["verbalized"]
    assert v["model"] == "smollm2-135m" and v["queries"] == 5 and v["kept"] + v["mismatched"] + v["unchanged"] == 5
    run_adapt(opts)  # resumed: the rewrites are not made again
    assert loads == ["smollm2-135m"]
    with pytest.raises(UserError, match="verbalizer-model"):
        plan_adapt(_opts(str(db), tmp_path / "x", verbalizer_url="http://127.0.0.1:1/v1"))
    with pytest.raises(UserError, match="no-such-model"):
        plan_adapt(_opts(str(db), tmp_path / "y", verbalizer_model="no-such-model"))
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
