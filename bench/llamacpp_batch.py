"""Batched llama.cpp decoding against one sequence at a time: same model, same rows, one process.

    .venv/bin/python bench/llamacpp_batch.py [--model qwen2.5-coder-0.5b] [--rows 32] [--max-new-tokens 96]
        [--parallel 1,2,4,8] [--samples 8] [--sample-rows 4] [--threads N] [--rounds 1]

On the same ``--rows`` bundled test rows (half held-out domains, half in-domain, as the quickstart
picks them; the chat prompt format of the default model's recipe), greedy:

- ``one at a time``: llama-cpp-python's ``Llama.create_completion``, one prompt after another in
  prompt order (the previous prompt's KV prefix reused): what kosql's llama.cpp backend did before
  batched decoding;
- ``batched S`` for each S of ``--parallel``: ``LlamaCppBackend(parallel=S)``, all rows in one
  ``generate`` call, at most S sequences per forward pass (S = 1: the new engine one prompt at a time);
- ``prompt lookup``: the new engine one prompt at a time with ``draft="prompt-lookup"``;

and sampled (temperature 0.7, top-p 0.95): ``--samples`` k samples of each of ``--sample-rows``
prompts, one ``create_completion`` per sample against one ``generate`` call with
``num_return_sequences=k`` (each prompt computed once for its k samples).

Reported per way: wall seconds, completion tokens, tokens/s and rows/s, their ratio to one at a time,
p50 seconds per row (where rows run one per call), rows whose SQL is the same as one at a time's, EX
on the rows' databases, and the load average (/proc/loadavg) before and after. Each way starts on an
empty cache; with ``--rounds R`` the ways run R times in rotating order and each way's median wall
time is reported. Threads: ``--threads``, else kosql's default (``KOSQL_THREADS``, else all cores).
Writes bench/results/llamacpp_batch[-<model>].json and .md and prints the table.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import models_common as common  # noqa: E402


def _load() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[0] if Path("/proc/loadavg").exists() else "?"


@dataclasses.dataclass
class Way:
    """One way of generating the rows: its texts, token counts, and seconds (wall, per row)."""

    name: str
    texts: list[str]
    tokens: int
    seconds: float
    per_row: list[float]
    load: str
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        import llama_cpp

        from kosql.data.resolve import load_dataset
        from kosql.models.llamacpp import LlamaCppBackend
        from kosql.pipeline.steps import pick_test_rows
        from kosql.prompts import build_prompt

        self.args = args
        self.threads = common.thread_count(args.threads)
        self.backend = LlamaCppBackend(args.model, num_threads=self.threads)
        self.rows = pick_test_rows(load_dataset("bundled:small", "test"), per_split=args.rows // 2, seed=0)
        self.prompts = [build_prompt(e.context, e.question, "chat", self.backend.tokenizer) for e in self.rows]
        self.ref = llama_cpp.Llama(model_path=self.backend.llm.model_path, n_ctx=4096, n_threads=self.threads,
                                   n_threads_batch=self.threads, verbose=False, seed=0)

    def _complete(self, prompt: str, max_new: int, temperature: float, seed: int) -> tuple[str, int]:
        from kosql.prompts import STOP_STRINGS

        out: Any = self.ref.create_completion(prompt, max_tokens=max_new, temperature=temperature,
                                              top_p=0.95 if temperature else 1.0, stop=list(STOP_STRINGS), seed=seed)
        return out["choices"][0]["text"], int(out["usage"]["completion_tokens"])

    def _fresh(self) -> None:
        self.ref.reset()
        self.ref._ctx.kv_cache_clear()
        self.backend.engine.close()

    def one_at_a_time(self) -> Way:
        self._fresh()
        order = sorted(range(len(self.prompts)), key=lambda i: self.prompts[i])  # as the backend did
        texts, per_row, tokens, load = [""] * len(order), [0.0] * len(order), 0, _load()
        start = time.perf_counter()
        for i in order:
            t0 = time.perf_counter()
            texts[i], n = self._complete(self.prompts[i], self.args.max_new_tokens, 0.0, 0)
            per_row[i] = time.perf_counter() - t0
            tokens += n
        return Way("one at a time", texts, tokens, time.perf_counter() - start, per_row, f"{load} -> {_load()}")

    def batched(self, parallel: int, draft: str = "none") -> Way:
        from kosql.models.base import GenerationParams

        self._fresh()
        engine = self.backend.engine
        engine.parallel, engine.draft = parallel, draft
        params = GenerationParams(max_new_tokens=self.args.max_new_tokens)
        stats0 = dataclasses.replace(engine.stats)
        load, start = _load(), time.perf_counter()
        if parallel == 1:  # one call per row, as kosql ask or a lone client: its latency is measured
            gens, per_row = [], []
            for i in sorted(range(len(self.prompts)), key=lambda i: self.prompts[i]):
                t0 = time.perf_counter()
                gens.append((i, self.backend.generate([self.prompts[i]], params)[0]))
                per_row.append(time.perf_counter() - t0)
            gens.sort(key=lambda pair: pair[0])
            out = [g for _i, g in gens]
        else:
            out, per_row = self.backend.generate(self.prompts, params), []
        seconds = time.perf_counter() - start
        st = engine.stats
        extra = {"drafted": st.drafted - stats0.drafted, "accepted": st.accepted - stats0.accepted,
                 "prompt_computed": st.prompt_computed - stats0.prompt_computed,
                 "prompt_reused": st.prompt_reused - stats0.prompt_reused, "decode_calls": st.calls - stats0.calls,
                 "failed": sum(1 for g in out if g.error)}
        name = f"batched {parallel}" if draft == "none" else f"{draft}, 1 sequence"
        return Way(name, [g.text for g in out], sum(g.completion_tokens for g in out), seconds, per_row,
                   f"{load} -> {_load()}", extra)

    def samples(self, batched: bool) -> Way:
        from kosql.models.base import GenerationParams

        self._fresh()
        k, prompts = self.args.samples, self.prompts[: self.args.sample_rows]
        load, start = _load(), time.perf_counter()
        if batched:
            self.backend.engine.parallel = 16
            params = GenerationParams(max_new_tokens=self.args.max_new_tokens, temperature=0.7, top_p=0.95,
                                      num_return_sequences=k)
            gens = self.backend.generate(prompts, params)
            texts, tokens = [g.text for g in gens], sum(g.completion_tokens for g in gens)
        else:
            texts, tokens = [], 0
            for p in prompts:
                for j in range(k):
                    text, n = self._complete(p, self.args.max_new_tokens, 0.7, j)
                    texts.append(text)
                    tokens += n
        name = f"{k} samples x {len(prompts)} rows, " + ("batched" if batched else "one at a time")
        return Way(name, texts, tokens, time.perf_counter() - start, [], f"{load} -> {_load()}")


def _ex(rows: list[Any], texts: list[str]) -> int:
    from kosql.evaluate.api import evaluate_predictions
    from kosql.sql.extract import extract_sql

    report = evaluate_predictions(rows, {r.id: extract_sql(t) for r, t in zip(rows, texts, strict=True)},
                                  testsuite="never", progress=False, em=False)
    return sum(1 for r in report.rows if r.get("ex"))


def _summarize(ways: list[Way], base: Way, rows: list[Any] | None) -> list[dict[str, Any]]:
    from kosql.sql.extract import extract_sql

    out = []
    for w in ways:
        n = len(w.texts)
        entry: dict[str, Any] = {
            "way": w.name, "rows": n, "seconds": round(w.seconds, 2), "completion_tokens": w.tokens,
            "tokens_per_s": round(w.tokens / w.seconds, 2), "rows_per_s": round(n / w.seconds, 3),
            "tokens_per_s_ratio": round((w.tokens / w.seconds) / (base.tokens / base.seconds), 2),
            "rows_per_s_ratio": round(base.seconds / w.seconds * n / len(base.texts), 2),
            "p50_row_s": round(statistics.median(w.per_row), 3) if w.per_row else None,
            "load": w.load, **w.extra}
        if rows is not None:
            entry["same_sql"] = sum(extract_sql(a) == extract_sql(b) for a, b in zip(w.texts, base.texts, strict=True))
            entry["ex"] = _ex(rows, w.texts)
        out.append(entry)
    return out


def _median_way(runs: list[Way]) -> Way:
    return sorted(runs, key=lambda w: w.seconds)[len(runs) // 2]


def run(args: argparse.Namespace) -> dict[str, Any]:
    bench = Bench(args)
    bench.batched(2)  # warm-up: page the weights in, build the context once (not counted)
    plan: list[tuple[str, Any]] = [("one at a time", bench.one_at_a_time)]
    plan += [(f"batched {s}", lambda s=s: bench.batched(s)) for s in args.parallel]
    if args.draft:
        plan.append(("prompt-lookup", lambda: bench.batched(1, "prompt-lookup")))
    runs: dict[str, list[Way]] = {name: [] for name, _ in plan}
    for r in range(args.rounds):
        for name, fn in plan[r % len(plan):] + plan[: r % len(plan)]:
            way = fn()
            runs[name].append(way)
            print(f"[{way.name}] {way.seconds:.1f} s, {way.tokens} tokens, load {way.load}", flush=True)
    greedy = [_median_way(runs[name]) for name, _ in plan]
    sampled = []
    if args.samples > 1 and args.sample_rows > 0:
        for batched in (False, True):
            way = bench.samples(batched)
            print(f"[{way.name}] {way.seconds:.1f} s, {way.tokens} tokens, load {way.load}", flush=True)
            sampled.append(way)
    return {"model": args.model, "threads": bench.threads, "rows": len(bench.rows),
            "max_new_tokens": args.max_new_tokens, "rounds": args.rounds, "machine": common.machine(),
            "greedy": _summarize(greedy, greedy[0], bench.rows),
            "sampled": _summarize(sampled, sampled[0], None) if sampled else [],
            "command": " ".join(["python bench/llamacpp_batch.py", *sys.argv[1:]])}


def markdown(report: dict[str, Any]) -> str:
    f = common.fmt
    lines = [f"# Batched llama.cpp decoding ({report['model']}, CPU)", "",
             f"{report['rows']} bundled test rows, chat prompts, max_new_tokens {report['max_new_tokens']}; "
             f"{report['threads']} threads; {report['machine']}; median of {report['rounds']} round(s). "
             "Load average (1 min) before -> after each way in the last column: other jobs shared the cores.", "",
             "| way (greedy) | s | tokens | tokens/s | x | rows/s | x | p50 s/row | same SQL | EX | load |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for w in report["greedy"]:
        lines.append(f"| {w['way']} | {f(w['seconds'])} | {w['completion_tokens']} | {f(w['tokens_per_s'])} | "
                     f"{f(w['tokens_per_s_ratio'], 2)} | {f(w['rows_per_s'], 3)} | {f(w['rows_per_s_ratio'], 2)} | "
                     f"{f(w['p50_row_s'], 2)} | {w['same_sql']}/{w['rows']} | {w['ex']}/{w['rows']} | {w['load']} |")
    draft = next((w for w in report["greedy"] if w["way"].startswith("prompt-lookup")), None)
    if draft:
        lines += ["", f"Prompt lookup: {draft['accepted']} of {draft['drafted']} drafted tokens kept."]
    if report["sampled"]:
        lines += ["", "| way (sampled, T 0.7) | s | tokens | tokens/s | x | load |", "|---|---:|---:|---:|---:|---|"]
        for w in report["sampled"]:
            lines.append(f"| {w['way']} | {f(w['seconds'])} | {w['completion_tokens']} | {f(w['tokens_per_s'])} | "
                         f"{f(w['tokens_per_s_ratio'], 2)} | {w['load']} |")
    lines += ["", f"Rebuild: `{report['command']}`", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b", help="embedded GGUF model (default: the default model)")
    ap.add_argument("--rows", type=int, default=32, help="bundled test rows (half per split)")
    ap.add_argument("--max-new-tokens", type=int, default=96)
    ap.add_argument("--parallel", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4, 8],
                    help="sequences decoded together, comma-separated")
    ap.add_argument("--no-draft", dest="draft", action="store_false", help="skip the prompt-lookup way")
    ap.add_argument("--samples", type=int, default=8, help="samples per prompt in the sampled comparison (0: skip)")
    ap.add_argument("--sample-rows", type=int, default=4, help="prompts in the sampled comparison")
    ap.add_argument("--threads", type=int, default=0, help="threads (default: KOSQL_THREADS, else all cores)")
    ap.add_argument("--rounds", type=int, default=1, help="repeat the greedy ways, rotating their order")
    ap.add_argument("--out", default=None, help="output folder (default bench/results)")
    args = ap.parse_args(argv)
    report = run(args)
    text = markdown(report)
    suffix = "" if args.model == "qwen2.5-coder-0.5b" else f"-{args.model}"
    common.write_report(Path(args.out) if args.out else common.RESULTS, f"llamacpp_batch{suffix}", report, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
