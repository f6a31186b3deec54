"""Load benchmark of `kosql serve`: 1, 4 and 16 concurrent clients asking a bundled database.

    .venv/bin/python bench/serve_load.py                       # fake backend, 0.2 s per model call
    .venv/bin/python bench/serve_load.py --batch-seconds 0.5 --requests 8
    KOSQL_THREADS=1 .venv/bin/python bench/serve_load.py --model smollm2-135m --requests 2   # a real model

For each server mode it starts ``kosql serve`` in a subprocess (``--max-batch 16``: micro-batched;
``--max-batch 1``: one request at a time) on ``--db`` and sends ``POST /api/ask`` with Korean
questions of that database from the bundled dataset: each of C clients (httpx, async) sends
``--requests`` questions one after the other. Reported per mode and C: p50/p99 latency, requests/s
(finished answers / wall time), errors (non-200 answers or failed connections; target 0), mean
batch size seen by the server, and the ratio of micro-batched to one-at-a-time throughput at 16
clients (target >= 3x).

With the fake backend (``--backend fake``, default), each model call sleeps ``--batch-seconds``
whatever its size, the cost profile of a model on a GPU or a well-batched CPU run: the figures show
the server's own overhead and what batching can save. ``--model NAME`` uses that model instead, on
its default backend (``--backend auto``: llama.cpp for the Qwen models, which generates one sequence
at a time, so batching saves little there; set KOSQL_THREADS; the real figures depend on the CPU).

Writes ``bench/results/serve_load[-<model>].json`` and ``.md`` and prints the table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kosql.serve.live import free_port  # noqa: E402

FAKE_SQL = ("SELECT d.name, COUNT(*) AS employees FROM employees e JOIN departments d "
            "ON e.department_id = d.department_id GROUP BY d.name;")


def _questions(db: str) -> list[str]:
    from kosql.data.synth import bundled_dataset

    name = db.removeprefix("bundled:")
    path = Path(bundled_dataset("small")) / "test.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    out = [r["question"] for r in rows if r.get("db_id") == name]
    return out or [r["question"] for r in rows]


def _start(args: argparse.Namespace, max_batch: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "kosql", "serve", "--db", args.db, "--port", str(port),
           "--max-batch", str(max_batch), "--batch-window-ms", str(args.window_ms), "--max-queue", "256",
           "--log-level", "warning", "--feedback", os.devnull]
    if args.model:
        cmd += ["--backend", "auto", "--model", args.model]
    else:
        cmd += ["--backend", "fake", "--fake-sql", FAKE_SQL, "--fake-batch-seconds", str(args.batch_seconds)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + args.start_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"kosql serve exited ({proc.returncode}): {err[-2000:]}")
        try:
            httpx.get(url + "/healthz", timeout=2).raise_for_status()
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("kosql serve did not start in time")


async def _client(http: httpx.AsyncClient, url: str, questions: list[str], offset: int, n: int,
                  latencies: list[float], errors: list[str]) -> None:
    for k in range(n):
        question = questions[(offset + k) % len(questions)]
        start = time.perf_counter()
        try:
            r = await http.post(url + "/api/ask", json={"question": question})
            if r.status_code == 200:
                latencies.append(time.perf_counter() - start)
            else:
                errors.append(f"HTTP {r.status_code}")
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)


async def _load(url: str, questions: list[str], clients: int, per_client: int, timeout: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:
        before = (await http.get(url + "/healthz")).json()["batching"]
        start = time.perf_counter()
        await asyncio.gather(*(_client(http, url, questions, c * per_client, per_client, latencies, errors)
                               for c in range(clients)))
        wall = time.perf_counter() - start
        after = (await http.get(url + "/healthz")).json()["batching"]
    batches = after["batches"] - before["batches"]
    prompts = after["prompts"] - before["prompts"]
    return {"clients": clients, "requests": clients * per_client, "ok": len(latencies), "errors": len(errors),
            "error_kinds": sorted(set(errors)), "wall_s": round(wall, 3),
            "req_per_s": round(len(latencies) / wall, 3) if wall else 0.0,
            "p50_s": round(_pct(latencies, 50), 4), "p99_s": round(_pct(latencies, 99), 4),
            "mean_batch": round(prompts / batches, 2) if batches else 0.0}


def _pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (p99 of fewer than 100 values is the slowest one)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _run_mode(args: argparse.Namespace, max_batch: int, questions: list[str]) -> list[dict[str, Any]]:
    proc, url = _start(args, max_batch)
    try:
        asyncio.run(_load(url, questions, 1, 1, args.timeout))  # warm-up (first model call, caches)
        out = []
        for clients in args.clients:
            row = asyncio.run(_load(url, questions, clients, args.requests, args.timeout))
            row["mode"] = "micro-batched" if max_batch > 1 else "one at a time"
            row["max_batch"] = max_batch
            print(f"  {row['mode']:>14} {clients:>3} clients: p50 {row['p50_s']:.3f} s, p99 {row['p99_s']:.3f} s, "
                  f"{row['req_per_s']:.2f} req/s, errors {row['errors']}, mean batch {row['mean_batch']}", flush=True)
            out.append(row)
        return out
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _markdown(summary: dict[str, Any]) -> str:
    s = summary["settings"]
    backend = (f"model {s['model']} (--backend auto, KOSQL_THREADS={s['threads']})" if s["model"]
               else f"fake backend, {s['batch_seconds']} s per model call")
    lines = ["# kosql serve load benchmark", "",
             f"{s['python']} on {s['machine']}, {s['cpus']} CPUs; {backend}; `POST /api/ask` on {s['db']}, "
             f"{s['requests_per_client']} questions per client, batch window {s['window_ms']} ms.", "",
             "| mode | clients | requests | p50 (s) | p99 (s) | req/s | errors | mean batch |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in summary["rows"]:
        lines.append(f"| {r['mode']} | {r['clients']} | {r['requests']} | {r['p50_s']:.3f} | {r['p99_s']:.3f} | "
                     f"{r['req_per_s']:.2f} | {r['errors']} | {r['mean_batch']} |")
    ratio = summary["ratio_at_16"]
    lines += ["", f"Micro-batched / one-at-a-time throughput at 16 clients: **{ratio:.2f}x** (target >= 3x).",
              "", f"Rebuild: `{summary['command']}`", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="bundled:hr", help="database of the server (default bundled:hr)")
    ap.add_argument("--model", default=None, help="a real model (--backend auto) instead of the fake backend")
    ap.add_argument("--batch-seconds", type=float, default=0.2, help="fake backend: seconds per model call")
    ap.add_argument("--clients", default="1,4,16", help="concurrent clients, comma-separated")
    ap.add_argument("--requests", type=int, default=8, help="questions per client")
    ap.add_argument("--window-ms", type=float, default=10.0, help="micro-batching wait window")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per request")
    ap.add_argument("--start-timeout", type=float, default=600.0, help="seconds for the server to start")
    ap.add_argument("--out", default=None, help="output stem [default bench/results/serve_load[-model]]")
    args = ap.parse_args(argv)
    args.clients = [int(c) for c in args.clients.split(",") if c]
    questions = _questions(args.db)
    rows: list[dict[str, Any]] = []
    for max_batch in (16, 1):
        print(f"kosql serve --max-batch {max_batch}:", flush=True)
        rows += _run_mode(args, max_batch, questions)
    at16 = {r["mode"]: r["req_per_s"] for r in rows if r["clients"] == max(args.clients)}
    single = at16.get("one at a time") or float("nan")
    ratio = at16.get("micro-batched", float("nan")) / single if single else float("nan")
    command = "python bench/serve_load.py " + " ".join(argv if argv is not None else sys.argv[1:])
    summary = {"settings": {"db": args.db, "model": args.model, "batch_seconds": None if args.model else args.batch_seconds,
                            "requests_per_client": args.requests, "window_ms": args.window_ms,
                            "threads": os.environ.get("KOSQL_THREADS"), "python": platform.python_version(),
                            "machine": platform.machine(), "cpus": os.cpu_count()},
               "rows": rows, "ratio_at_16": round(ratio, 3), "command": command.strip()}
    stem = Path(args.out) if args.out else REPO / "bench" / "results" / (
        "serve_load" + (f"-{Path(args.model).name}" if args.model else ""))
    stem.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".md")
    json_path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(_markdown(summary), encoding="utf-8")
    print(f"micro-batched / one-at-a-time throughput at {max(args.clients)} clients: {ratio:.2f}x "
          f"-> {md_path}")
    errors = sum(r["errors"] for r in rows)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
