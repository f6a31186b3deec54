"""The quickstart's run folder: resumed only with the options it was started with."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosql.errors import UserError
from kosql.models.resolve import DEFAULT_MODEL
from kosql.pipeline.quickstart import QuickstartOptions, check_resumable


def test_resume_with_the_same_options_and_refusal_with_others(tmp_path: Path) -> None:
    out = tmp_path / "run"
    opts = QuickstartOptions(out=out, train_overrides=["train.max_steps=5"])
    check_resumable(out, opts)
    (out / "test_rows.jsonl").write_text("{}\n", encoding="utf-8")
    check_resumable(out, QuickstartOptions(out=out, train_overrides=["train.max_steps=5"], batch_size=4))
    with pytest.raises(UserError, match=f"model='{DEFAULT_MODEL}', not 'gemma3-270m'"):
        check_resumable(out, QuickstartOptions(out=out, model="gemma3-270m", train_overrides=["train.max_steps=5"]))
    with pytest.raises(UserError, match="train_overrides"):
        check_resumable(out, QuickstartOptions(out=out))
    assert (out / "test_rows.jsonl").exists()  # nothing the user had is touched


def test_a_foreign_non_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(UserError, match="not made by this quickstart"):
        check_resumable(tmp_path, QuickstartOptions(out=tmp_path))
    assert (tmp_path / "mine.txt").read_text(encoding="utf-8") == "keep me"
    assert not (tmp_path / "options.json").exists()


def test_generate_and_eval_with_schema_check_scores_greedy_and_repaired(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3
    from collections.abc import Sequence

    import kosql.models.registry as registry
    from kosql.data.rows import Example
    from kosql.models.base import Generation, GenerationParams
    from kosql.pipeline.steps import EvalTarget, GenerationSettings, generate_and_eval

    db = tmp_path / "u.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript("CREATE TABLE users (user_id INTEGER PRIMARY KEY, name TEXT, email TEXT);"
                       "INSERT INTO users VALUES (1, 'kim', 'a@gmail.com'), (2, 'lee', 'b@naver.com');")
    conn.commit()
    conn.close()
    ddl = "CREATE TABLE users (user_id INT PRIMARY KEY, name VARCHAR(20), email VARCHAR(50));"
    rows = [Example(id="a", db_id="u", context=ddl, question="qa 이름", answer="SELECT name FROM users;",
                    extra={"db_path": str(db)}),
            Example(id="b", db_id="u", context=ddl, question="qb 메일", answer="SELECT email FROM users;",
                    extra={"db_path": str(db)})]

    class Scripted:
        name = "scripted"

        def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
            out = []
            for p in prompts:
                if "qa" in p:
                    out.append(Generation(text="SELECT name FROM users;"))
                elif params.num_beams > 1:
                    out += [Generation(text=t) for t in ("SELECT mail FROM users;", "SELECT email FROM users;")]
                else:
                    out.append(Generation(text="SELECT mail FROM users;"))
            return out

    monkeypatch.setattr(registry, "load_backend", lambda *a, **k: Scripted())
    res = generate_and_eval(rows, tmp_path / "run", EvalTarget("m", prompt_format="seed"),
                            GenerationSettings(testsuite="never", repair_beams=2))
    assert res.greedy_rows is not None
    assert [r["ex"] for r in res.greedy_rows] == [True, False]
    assert [r["ex"] for r in res.rows] == [True, True]
    assert (tmp_path / "run" / "eval-greedy" / "per_row.jsonl").exists()


def test_tuned_model_is_base_plus_adapter_or_the_full_model_folder(tmp_path: Path) -> None:
    from kosql.pipeline.steps import tuned_model

    lora, full = tmp_path / "lora", tmp_path / "full"
    (lora / "adapter").mkdir(parents=True)
    (lora / "adapter" / "adapter_config.json").write_text("{}", encoding="utf-8")
    (full / "adapter").mkdir(parents=True)
    (full / "adapter" / "config.json").write_text("{}", encoding="utf-8")
    assert tuned_model(lora, "smollm2-135m") == ("smollm2-135m", str(lora / "adapter"))
    assert tuned_model(full, "smollm2-135m") == (str(full / "adapter"), None)


def test_a_bad_override_or_method_fails_before_any_file_is_written(tmp_path: Path) -> None:
    from kosql.pipeline.quickstart import run_quickstart

    out = tmp_path / "qs"
    with pytest.raises(UserError, match="lora.rnk"):
        run_quickstart(QuickstartOptions(out=out, method="lora", train_overrides=["lora.rnk=3"]))
    with pytest.raises(UserError, match="method 'qlora'"):
        run_quickstart(QuickstartOptions(out=out, method="qlora"))
    assert not out.exists()


def test_a_missing_dataset_fails_before_any_file_is_written(tmp_path: Path) -> None:
    from kosql.pipeline.quickstart import run_quickstart

    out = tmp_path / "qs"
    with pytest.raises(UserError, match=r"^--data: dataset file .*nope' does not exist\.$"):
        run_quickstart(QuickstartOptions(out=out, dataset=str(tmp_path / "nope")))
    with pytest.raises(UserError, match=r"^--data: bundled dataset size must be one of .*'huge'\.$"):
        run_quickstart(QuickstartOptions(out=out, dataset="bundled:huge"))
    with pytest.raises(UserError, match=r"^data\.train: dataset file .*nope\.jsonl' does not exist\.$"):
        run_quickstart(QuickstartOptions(out=out, train_overrides=[f"data.train={tmp_path / 'nope.jsonl'}"]))
    with pytest.raises(UserError, match=r"^Model folder .*no-model does not exist\.$"):
        run_quickstart(QuickstartOptions(out=out, model=str(tmp_path / "no-model")))
    assert not out.exists()


def test_the_default_dataset_is_the_training_configs_bundled_one(tmp_path: Path) -> None:
    from kosql.pipeline.quickstart import quickstart_dataset
    from kosql.pipeline.steps import default_train_config

    smol = default_train_config("smollm2-135m")
    assert quickstart_dataset(smol, []) == "bundled:small"
    assert quickstart_dataset(default_train_config("gemma3-270m"), []) == "bundled:small"
    assert quickstart_dataset(smol, ["data.train=bundled:small+comments"]) == "bundled:small+comments"
    config = tmp_path / "c.yaml"
    config.write_text("data:\n  train: bundled:full\n", encoding="utf-8")
    assert quickstart_dataset(str(config), []) == "bundled:full"
    own = tmp_path / "rows.jsonl"
    assert quickstart_dataset(smol, [f"data.train={own}"]) == "bundled:small"  # a file: its own test rows unknown
    assert quickstart_dataset(None, []) == "bundled:small"


def test_the_training_estimate_counts_the_rows_the_run_will_see(tmp_path: Path) -> None:
    import json

    from kosql.pipeline.quickstart import planned_train_rows
    from kosql.pipeline.steps import default_train_config
    from kosql.pipeline.training import train_config

    rows = tmp_path / "train.jsonl"
    rows.write_text("".join(json.dumps({"db_id": "d", "context": "CREATE TABLE t (a INT);", "question": f"q{i}",
                                        "answer": "SELECT a FROM t;"}) + "\n" for i in range(10)), encoding="utf-8")
    config = default_train_config("smollm2-135m", "full")
    assert planned_train_rows(train_config(config, [f"data.train={rows}"])) == 180 * 4  # the shipped max_steps
    every = [f"data.train={rows}", "train.max_steps=-1"]
    assert planned_train_rows(train_config(config, every)) == 10
    assert planned_train_rows(train_config(config, [*every, "train.epochs=2", "data.data_fraction=0.5"])) == 10
    assert planned_train_rows(train_config(config, [*every, "data.max_rows=3", "train.epochs=1.5"])) == 5


def test_step_guesses_scale_with_rows_model_and_comments() -> None:
    from kosql.pipeline.quickstart import step_guesses

    plain = step_guesses("smollm2-135m", "full", 720, 120, "bundled:small")
    assert plain["train"] == pytest.approx(720 * 0.9)
    assert step_guesses("smollm2-135m", "full", 2080, 120, "bundled:small")["train"] == pytest.approx(2080 * 0.9)
    assert step_guesses("gemma3-270m", "lora", 720, 120, "bundled:small")["train"] < plain["train"]
    half = step_guesses("smollm2-135m", "full", 720, 60, "bundled:small")
    assert half["base"] == pytest.approx(plain["base"] / 2) and half["data"] == plain["data"]
    commented = step_guesses("smollm2-135m", "full", 720, 120, "bundled:small+comments")
    assert commented["train"] > plain["train"] and commented["finetuned"] > plain["finetuned"]


def test_the_first_estimate_uses_the_training_plan_when_it_is_known(tmp_path: Path) -> None:
    from kosql.models.cpu import cpu_supports_bf16
    from kosql.pipeline.quickstart import _GUESS, initial_guesses, step_guesses
    from kosql.pipeline.steps import default_train_config
    from kosql.pipeline.training import train_config

    config = default_train_config("smollm2-135m", "full")
    opts = QuickstartOptions(out=tmp_path, model="smollm2-135m")
    longer = initial_guesses(opts, train_config(config, ["train.max_steps=520"]), "bundled:small")
    assert longer == step_guesses("smollm2-135m", "full", 520 * 4, 120 + opts.handwritten, "bundled:small",
                                  native_bf16=cpu_supports_bf16())
    shipped = initial_guesses(opts, train_config(config, []), "bundled:small")
    assert longer["train"] == pytest.approx(shipped["train"] * 520 / 180)
    every = initial_guesses(opts, train_config(config, ["train.max_steps=-1"]), "bundled:small")
    assert every == _GUESS  # rows unknown before the data step: the defaults


def test_a_run_follows_its_plan_and_records_the_backends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole quickstart on a two-row dataset with a scripted model and a stand-in for training: the
    plan's folders are written, the base model generates without and the fine-tuned model (base + the
    run's LoRA adapter) with the schema check, each on the backend resolved for it, and summary.json
    records both."""
    import json
    import sqlite3
    from collections.abc import Sequence

    import kosql.models.registry as registry
    from kosql.models.base import Generation, GenerationParams
    from kosql.pipeline import quickstart
    from kosql.pipeline.quickstart import plan_quickstart, run_quickstart

    db = tmp_path / "u.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript("CREATE TABLE users (user_id INTEGER PRIMARY KEY, name TEXT);"
                           "INSERT INTO users VALUES (1, 'kim'), (2, 'lee');")
    ddl = "CREATE TABLE users (user_id INT PRIMARY KEY, name VARCHAR(20));"
    data = tmp_path / "data"
    data.mkdir()
    rows = [{"id": f"r{i}", "db_id": "u", "context": ddl, "question": f"q{i} 이름", "answer": "SELECT name FROM users;",
             "db_path": str(db), "split": split} for i, split in enumerate(["heldout_domain", "in_domain"])]
    for name in ("train.jsonl", "test.jsonl"):
        (data / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")

    loaded: list[tuple[str, str, str | None]] = []
    beams: list[int] = []

    class Scripted:
        name = "scripted"

        def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
            beams.append(params.num_beams)  # greedy: a column the schema lacks; a beam: the right one
            texts = ["SELECT nam FROM users;", "SELECT name FROM users;"][: params.num_beams]
            return [Generation(text=t) for _ in prompts for t in texts]

    def load_backend(kind: str, model: str, *, adapter: str | None = None, **kw: object) -> Scripted:
        loaded.append((kind, model, adapter))
        return Scripted()

    def fake_train(config: str | None, overrides: list[str], out: Path, *,
                   planned_seconds: float | None = None) -> tuple[Path, dict[str, object]]:
        assert planned_seconds and planned_seconds > 0  # the training compares its measured time with the plan
        assert "model.name=smollm2-135m" in overrides and f"data.train={data}" in overrides
        (out / "adapter").mkdir(parents=True)
        (out / "adapter" / "adapter_config.json").write_text("{}", encoding="utf-8")
        return out, {"train_seconds": 1.5}

    monkeypatch.setattr(registry, "load_backend", load_backend)
    monkeypatch.setattr(registry, "default_backend",
                        lambda model, adapter=None: "engine-with-adapter" if adapter else "engine-for-base")
    monkeypatch.setattr(quickstart, "train_sft_run", fake_train)
    opts = QuickstartOptions(out=tmp_path / "qs", model="smollm2-135m", dataset=str(data), method="lora", handwritten=0,
                             repair_beams=2, batch_size=2)
    plan = plan_quickstart(opts)
    assert not plan.folders.out.exists()  # planning writes nothing
    assert (plan.backend, plan.method, plan.steps) == ("engine-for-base", "lora",
                                                       ["data", "base", "train", "finetuned", "report"])
    assert plan.base_generation().repair_beams == 0 and plan.generation.repair_beams == 2

    summary = run_quickstart(opts)
    adapter = str(tmp_path / "qs" / "train" / "adapter")
    assert loaded == [("engine-for-base", "smollm2-135m", None), ("engine-with-adapter", "smollm2-135m", adapter)]
    assert beams[0] == 1 and max(beams) == 2  # beams only for the fine-tuned model's schema check
    written = json.loads((tmp_path / "qs" / "summary.json").read_text(encoding="utf-8"))
    assert written["backends"] == summary["backends"] == {"base": "engine-for-base",
                                                          "finetuned": "engine-with-adapter"}
    ex = {model: res["ex:all"]["acc"] for model, res in written["results"].items()}
    assert ex == {"smollm2-135m (base)": 0.0, "smollm2-135m + LoRA": 0.0, "smollm2-135m + LoRA + schema check": 1.0}
    assert written["schema_check"] == {"beams": 2, "checked": 2, "replaced": 2}
    assert written["train"] == {"run_dir": str(tmp_path / "qs" / "train"), "train_seconds": 1.5}
    assert list(written["steps"]) == plan.steps
    for name in ("test_rows.jsonl", "base/eval/per_row.jsonl", "finetuned/eval-greedy/per_row.jsonl", "report.md"):
        assert (tmp_path / "qs" / name).exists(), name


def test_the_hand_written_rows_are_spread_over_their_databases() -> None:
    from collections import Counter

    from kosql.pipeline.quickstart import pick_handwritten

    rows = pick_handwritten(12, 0)
    assert len(rows) == 12 and set(Counter(r.db_id for r in rows).values()) == {2}
    assert {r.extra["split"] for r in rows} == {"handwritten"} and rows == pick_handwritten(12, 0)
