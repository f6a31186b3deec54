"""`kosql generate` end to end with the fake backend, and its one-sentence user errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kosql.cli.main import main


def _data(tmp_path: Path, n: int = 5) -> Path:
    path = tmp_path / "test.jsonl"
    rows = [{"id": f"q{i}", "db_id": "d", "context": f"CREATE TABLE 상품{i} (id INT);",
             "question": "모든 상품을 보여줘", "answer": f"SELECT * FROM 상품{i};"} for i in range(n)]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_generate_fake_backend_and_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, out = _data(tmp_path), tmp_path / "preds.jsonl"
    argv = ["generate", "--data", str(data), "--backend", "fake", "--model", "fake-model",
            "--batch-size", "2", "--limit", "3", "--out", str(out)]
    assert main(argv) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
    argv[argv.index("--limit") + 1] = "5"
    assert main(argv) == 0
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["id"] for r in rows) == [f"q{i}" for i in range(5)]
    assert all(r["pred"] == f"SELECT * FROM 상품{r['id'][1:]};" for r in rows)
    assert "Wrote 5 predictions" in capsys.readouterr().err


def test_missing_data_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["generate", "--data", str(tmp_path / "nope.jsonl"), "--backend", "fake",
                 "--out", str(tmp_path / "p.jsonl")])
    assert code == 2
    assert "nope.jsonl" in capsys.readouterr().err


def test_missing_adapter_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["generate", "--data", str(_data(tmp_path)), "--backend", "fake",
                 "--adapter", str(tmp_path / "no-adapter"), "--out", str(tmp_path / "p.jsonl")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("Error: Adapter folder") and "no-adapter" in err and "does not exist" in err
    assert len(err.strip().splitlines()) == 1


def test_adapter_folder_without_config_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ad").mkdir()
    code = main(["generate", "--data", str(_data(tmp_path)), "--backend", "fake",
                 "--adapter", str(tmp_path / "ad"), "--out", str(tmp_path / "p.jsonl")])
    assert code == 2 and "adapter_config.json" in capsys.readouterr().err


def test_unknown_model_offline_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    code = main(["generate", "--data", str(_data(tmp_path)), "--model", "nobody/no-such-model-xyz",
                 "--out", str(tmp_path / "p.jsonl")])
    err = capsys.readouterr().err
    assert code == 2
    assert "nobody/no-such-model-xyz" in err and str(tmp_path / "hf-cache") in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "p.jsonl").exists()


def test_help_lists_options() -> None:
    from click.testing import CliRunner

    from kosql.cli.generate import command

    result = CliRunner().invoke(command, ["--help"])
    assert result.exit_code == 0
    for opt in ("--adapter", "--prompt-format", "--batch-size", "--max-new-tokens", "--limit", "--out"):
        assert opt in result.output
