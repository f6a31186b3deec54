"""`kosql quickstart --vote k`: the fine-tuned model votes, the report pairs it with greedy alone on the
same rows, summary.json records the vote; rows without a database are refused before training."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from kosql.errors import UserError
from kosql.models.base import Generation, GenerationParams
from kosql.pipeline.plan import QuickstartOptions


def _dataset(tmp_path: Path, with_db: bool = True) -> Path:
    db = tmp_path / "u.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript("CREATE TABLE users (user_id INTEGER PRIMARY KEY, name TEXT);"
                           "INSERT INTO users VALUES (1, 'kim'), (2, 'lee');")
    ddl = "CREATE TABLE users (user_id INT PRIMARY KEY, name VARCHAR(20));"
    data = tmp_path / "data"
    data.mkdir()
    rows = [{"id": f"r{i}", "db_id": "u", "context": ddl, "question": f"q{i} 이름", "answer": "SELECT name FROM users;",
             "split": split, **({"db_path": str(db)} if with_db else {})}
            for i, split in enumerate(["heldout_domain", "in_domain"])]
    for name in ("train.jsonl", "test.jsonl"):
        (data / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return data


class Scripted:
    """Greedy: a column the schema lacks (its retry too); a sample: the right one."""

    name = "scripted"

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        text = "SELECT nam FROM users;" if params.greedy else "SELECT name FROM users;"
        return [Generation(text=text) for _ in prompts for _ in range(params.num_return_sequences)]


def _patch(monkeypatch: pytest.MonkeyPatch, trained: list[str]) -> None:
    import kosql.models.registry as registry
    from kosql.pipeline import quickstart

    def fake_train(config: str | None, overrides: list[str], out: Path, **_: object) -> tuple[Path, dict[str, object]]:
        trained.append(str(out))
        (out / "adapter").mkdir(parents=True)
        (out / "adapter" / "adapter_config.json").write_text("{}", encoding="utf-8")
        return out, {"train_seconds": 1.0}

    monkeypatch.setattr(registry, "load_backend", lambda *a, **k: Scripted())
    monkeypatch.setattr(registry, "default_backend", lambda model, adapter=None: "scripted")
    monkeypatch.setattr(quickstart, "train_sft_run", fake_train)


def test_quickstart_vote_pairs_greedy_and_voted_on_the_same_rows(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from kosql.pipeline.quickstart import plan_quickstart, run_quickstart

    trained: list[str] = []
    _patch(monkeypatch, trained)
    opts = QuickstartOptions(out=tmp_path / "qs", model="smollm2-135m", handwritten=0, dataset=str(_dataset(tmp_path)),
                             method="lora", vote=2, batch_size=2)
    plan = plan_quickstart(opts)
    assert plan.generation.vote == 2 and plan.base_generation().vote == 0
    summary = run_quickstart(opts)
    ex = {model: res["ex:all"]["acc"] for model, res in summary["results"].items()}
    assert ex == {"smollm2-135m (base)": 0.0, "smollm2-135m + LoRA": 0.0, "smollm2-135m + LoRA + vote 2": 1.0}
    assert summary["vote"] == {"k": 2, "rows": 2, "greedy_won": 0, "changed": 2, "mean_share": 0.6667}
    assert any(p["a"] == "smollm2-135m + LoRA" and p["b"] == "smollm2-135m + LoRA + vote 2"
               or p["b"] == "smollm2-135m + LoRA" and p["a"] == "smollm2-135m + LoRA + vote 2"
               for p in summary["paired"])
    assert (tmp_path / "qs" / "finetuned" / "eval-greedy" / "per_row.jsonl").exists()
    # resuming the folder with another k is refused
    with pytest.raises(UserError, match="vote=2"):
        run_quickstart(QuickstartOptions(out=tmp_path / "qs", model="smollm2-135m", handwritten=0,
                                         dataset=str(tmp_path / "data"), method="lora", vote=4, batch_size=2))


def test_quickstart_vote_refuses_rows_without_a_database_before_training(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from kosql.pipeline.quickstart import run_quickstart

    trained: list[str] = []
    _patch(monkeypatch, trained)
    opts = QuickstartOptions(out=tmp_path / "qs", model="smollm2-135m", handwritten=0, dataset=str(_dataset(tmp_path, False)),
                             method="lora", vote=2, batch_size=2, skip_base=True)
    with pytest.raises(UserError, match="it has no db_path"):
        run_quickstart(opts)
    assert trained == []
