"""One decision of the default prompt format (kosql.models.prompting), taken alike by kosql generate,
kosql ask, kosql serve and the pipelines' generate step; one renderer of a prompt for a backend; one
reader of KOSQL_THREADS; one set of backend options in the CLIs."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kosql.data.rows import Example
from kosql.errors import UserError
from kosql.models.fake import FakeBackend
from kosql.models.prompting import default_prompt_format, render_prompt, takes_chat_prompt
from kosql.prompts import make_prompt

QWEN = "qwen2.5-coder-0.5b"  # shipped with the chat prompt format
DDL = "CREATE TABLE t (a INTEGER);"


class _Template:
    chat_template = "{{ messages }}"

    def apply_chat_template(self, conversation: Any, **_: Any) -> str:
        return "<chat>" + conversation[-1]["content"]


@dataclass
class ChatFake(FakeBackend):
    """A fake backend with a tokenizer that has a chat template (as hf and llama.cpp have)."""

    tokenizer: Any = field(default_factory=_Template)


@dataclass
class ChatApi(FakeBackend):
    chat_api: bool = True


def _folders(tmp_path: Path) -> dict[str, Path]:
    bare = tmp_path / "bare-adapter"  # an adapter without a kosql run record
    bare.mkdir()
    (bare / "adapter_config.json").write_text("{}", encoding="utf-8")
    run = tmp_path / "run"
    (run / "adapter").mkdir(parents=True)
    (run / "adapter" / "adapter_config.json").write_text("{}", encoding="utf-8")
    (run / "manifest.json").write_text(json.dumps({"prompt_format": "compact"}), encoding="utf-8")
    return {"bare": bare, "run": run / "adapter"}


def test_the_decision(tmp_path: Path) -> None:
    folders = _folders(tmp_path)
    assert default_prompt_format(QWEN) == "chat"
    assert default_prompt_format(QWEN, str(folders["bare"])) == "chat"  # an unrecorded adapter: its base model's
    assert default_prompt_format(QWEN, str(folders["run"])) == "compact"  # a kosql adapter: what it was trained on
    assert default_prompt_format(str(folders["run"])) == "compact"  # a kosql-trained model folder
    assert default_prompt_format("smollm2-135m") == "seed"
    assert default_prompt_format(QWEN, None, ChatFake()) == "chat"
    assert default_prompt_format(QWEN, None, ChatApi()) == "chat"  # /chat/completions applies the template
    assert default_prompt_format(QWEN, None, FakeBackend()) == "seed"  # no tokenizer, no chat API
    assert default_prompt_format(QWEN, str(folders["run"]), FakeBackend()) == "compact"


def test_render_prompt_for_each_kind_of_backend() -> None:
    assert takes_chat_prompt(ChatFake()) and takes_chat_prompt(ChatApi()) and not takes_chat_prompt(FakeBackend())
    assert render_prompt(DDL, "q", "chat", ChatFake()).startswith("<chat>")
    assert render_prompt(DDL, "q", "chat", ChatApi()) == make_prompt(DDL, "q").rstrip()  # the user message
    assert render_prompt(DDL, "q", "seed", FakeBackend()) == make_prompt(DDL, "q")
    no_template = ChatFake()
    no_template.tokenizer = object()
    with pytest.raises(UserError, match="has no chat template"):
        render_prompt(DDL, "q", "chat", no_template)
    with pytest.raises(UserError, match="Unknown prompt format"):
        render_prompt(DDL, "q", "sql", None)


# ---------------------------------------------------------------- the four call sites agree


@pytest.fixture
def chat_backends(monkeypatch: pytest.MonkeyPatch) -> list[ChatFake]:
    """Every command loads a ChatFake (a backend that takes the chat format) whatever it asks for."""
    import kosql.models.registry as registry

    made: list[ChatFake] = []

    def load(kind: str, model: str, *, adapter: str | None = None, **_: Any) -> ChatFake:
        made.append(ChatFake(name=model, reply=lambda _p: "SELECT a FROM t;"))
        return made[-1]

    monkeypatch.setattr(registry, "load_backend", load)
    return made


def _data(tmp_path: Path) -> tuple[Path, list[Example]]:
    db = tmp_path / "d.sqlite"
    with sqlite3.connect(db) as con:
        con.execute(DDL)
        con.execute("INSERT INTO t VALUES (1)")
    rows = [Example(id="r0", db_id="d", context=DDL, question="a는?", answer="SELECT a FROM t;",
                    extra={"db_path": str(db)})]
    data = tmp_path / "test.jsonl"
    data.write_text(json.dumps({**rows[0].to_dict(), "db_path": str(db)}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return db, rows


def _generate(tmp_path: Path, model: str, adapter: str | None) -> str:
    from kosql.cli.main import main

    out = tmp_path / f"gen-{len(list(tmp_path.glob('gen-*')))}.jsonl"
    args = ["generate", "--data", str(tmp_path / "test.jsonl"), "--model", model, "--backend", "hf",
            "--out", str(out), *(["--adapter", adapter] if adapter else [])]
    assert main(args) == 0
    return str(json.loads(out.with_name(out.name + ".meta.json").read_text(encoding="utf-8"))["prompt_format"])


def _ask(monkeypatch: pytest.MonkeyPatch, db: Path, model: str, adapter: str | None) -> str:
    from kosql.ask.service import Asker
    from kosql.cli.main import main

    seen: list[str] = []
    original = Asker.ask

    def ask(self: Asker, question: str, **kwargs: Any) -> Any:
        seen.append(self.prompt_format)
        return original(self, question, **kwargs)

    monkeypatch.setattr(Asker, "ask", ask)
    args = ["ask", "a는?", "--db", str(db), "--model", model, "--backend", "hf",
            *(["--adapter", adapter] if adapter else [])]
    assert main(args) == 0
    return seen[0]


def _serve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db: Path, model: str, adapter: str | None) -> str:
    import kosql.serve.live as live
    from kosql.cli.main import main

    apps: list[Any] = []
    monkeypatch.setattr(live, "serve_forever", lambda app, *a, **k: apps.append(app))
    args = ["serve", "--db", str(db), "--model", model, "--backend", "hf", "--feedback", str(tmp_path / "fb.jsonl"),
            *(["--adapter", adapter] if adapter else [])]
    assert main(args) == 0
    state = apps[0].state.kosql
    assert state.config.chat_prompt == ("template" if state.asker.prompt_format == "chat" else "plain")
    return str(state.asker.prompt_format)


def _pipeline(tmp_path: Path, rows: list[Example], model: str, adapter: str | None) -> str:
    from kosql.pipeline.steps import EvalTarget, GenerationSettings, generate_and_eval

    out = tmp_path / f"pipe-{len(list(tmp_path.glob('pipe-*')))}"
    outcome = generate_and_eval(rows, out, EvalTarget(model, adapter=adapter, backend="hf"),
                                GenerationSettings(batch_size=1, testsuite="never"))
    meta = outcome.preds_path.with_name(outcome.preds_path.name + ".meta.json")
    return str(json.loads(meta.read_text(encoding="utf-8"))["prompt_format"])


@pytest.mark.parametrize("model, adapter, expected", [
    (QWEN, None, "chat"), (QWEN, "bare", "chat"), (QWEN, "run", "compact"), ("smollm2-135m", None, "seed"),
])
def test_generate_ask_serve_and_the_pipelines_take_the_same_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chat_backends: list[ChatFake], model: str,
        adapter: str | None, expected: str) -> None:
    adapter_path = str(_folders(tmp_path)[adapter]) if adapter else None
    db, rows = _data(tmp_path)
    got = {"generate": _generate(tmp_path, model, adapter_path), "ask": _ask(monkeypatch, db, model, adapter_path),
           "serve": _serve(monkeypatch, tmp_path, db, model, adapter_path),
           "pipeline": _pipeline(tmp_path, rows, model, adapter_path)}
    assert got == dict.fromkeys(got, expected)
    assert len(chat_backends) == 4


# ---------------------------------------------------------------- backend options and threads


def test_ask_takes_the_same_backend_options_as_generate_and_serve() -> None:
    from click.testing import CliRunner

    from kosql.cli.ask import command as ask
    from kosql.cli.generate import command as generate
    from kosql.cli.serve import command as serve

    def names(cmd: Any) -> set[str]:
        return {o for p in cmd.params for o in p.opts}

    shared = {"--model", "--backend", "--adapter", "--base-url", "--rpm", "--concurrency"}
    assert shared | {"--api-key-env", "--endpoint"} <= names(ask) & names(generate)
    assert shared | {"--upstream-key-env", "--upstream-endpoint"} <= names(serve)
    assert "--api-key-env" in CliRunner().invoke(ask, ["--help"]).output


def test_an_api_option_for_another_backend_is_refused_in_every_command(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import kosql.serve.live as live
    from kosql.cli.main import main

    monkeypatch.setattr(live, "serve_forever", lambda *a, **k: None)  # never listens
    db, _ = _data(tmp_path)
    assert main(["ask", "q", "--db", str(db), "--backend", "fake", "--api-key-env", "KEY"]) == 2
    assert main(["serve", "--backend", "fake", "--upstream-endpoint", "chat"]) == 2
    assert main(["generate", "--data", str(tmp_path / "test.jsonl"), "--backend", "fake", "--base-url",
                 "http://127.0.0.1:9/v1", "--out", str(tmp_path / "p.jsonl")]) == 2


def test_training_reads_kosql_threads_through_the_inference_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    import kosql.models.cpu as cpu
    from kosql.train.modeling import thread_count

    monkeypatch.setenv("KOSQL_THREADS", " 3 ")
    assert cpu.env_threads() == 3 and cpu.default_threads() == 3 and thread_count(None) == 3
    monkeypatch.setattr(cpu, "env_threads", lambda: 5)  # one reader: training follows it
    assert thread_count(None) == 5 and cpu.default_threads() == 5
