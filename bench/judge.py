"""Benchmark `kosql judge` against the local fault-injecting server (no network, no API key).

    .venv/bin/python bench/judge.py [--rpm 600] [--latency 0.05] [--requests 300] [--faults 0,0.1]

For each fault rate it starts ``python -m kosql.testing.fake_openai_server`` in a subprocess, runs
``run_judge`` on ``--requests`` synthetic rows with the given requests/minute limit, then reads the
server's arrival times. Reported per scenario:

* achieved request rate as a share of the limit, measured at the server over the steady part
  ``(arrivals - bucket capacity) / (last - first arrival)`` (the bucket lets its capacity, one
  second's worth, go at once at the start), and the raw ``(arrivals - 1) / span``;
* the most arrivals in any 1-second window (the limit allows capacity + rate = 2 x 10 at 600 rpm);
* lost results (rows with no line in judgments.jsonl; target 0), duplicates, failed rows by kind;
* rows judged per minute of wall time (with faults, retries spend part of the request budget).

Writes ``bench/results/judge.json`` and ``bench/results/judge.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kosql.data.rows import Example  # noqa: E402
from kosql.evaluate.judge import JudgeSettings, build_items, run_judge  # noqa: E402
from kosql.http.client import ClientConfig  # noqa: E402
from kosql.http.ratelimit import bucket_capacity  # noqa: E402


def _examples(n: int) -> tuple[list[Example], dict[str, str]]:
    ex = [Example(str(i), "bench", "CREATE TABLE t (a INT, b TEXT, c REAL);",
                  f"a가 {i}인 행의 b와 c를 보여주세요", f"SELECT b, c FROM t WHERE a = {i}") for i in range(n)]
    preds = {e.id: e.answer if i % 4 else f"SELECT b FROM t WHERE a = {i}" for i, e in enumerate(ex)}
    return ex, preds


def _start_server(faults: float, latency: float, slow: float) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "kosql.testing.fake_openai_server", "--port", "0", "--faults", str(faults),
           "--latency", str(latency), "--slow-seconds", str(slow), "--seed", "7"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise RuntimeError("the fake server did not start")
    return proc, url


def _max_in_window(times: list[float], width: float) -> int:
    best, j = 0, 0
    for i in range(len(times)):
        while times[i] - times[j] > width:
            j += 1
        best = max(best, i - j + 1)
    return best


def scenario(n: int, rpm: float, latency: float, faults: float, concurrency: int, timeout: float) -> dict[str, Any]:
    proc, url = _start_server(faults, latency, slow=timeout * 1.5)
    try:
        examples, preds = _examples(n)
        items = build_items(examples, preds)
        cfg = ClientConfig(base_url=url, rpm=rpm, tpm=None, concurrency=concurrency, max_attempts=5,
                           timeout=timeout)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            run = run_judge(items, JudgeSettings(models=["gpt-4o-mini"]), cfg, tmp, progress=False)
            wall = time.perf_counter() - t0
            lines = [json.loads(x) for x in (Path(tmp) / "judgments.jsonl").read_text().splitlines()]
        stats = httpx.get(url.removesuffix("/v1") + "/_stats", timeout=10).json()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    times = sorted(e["t"] for e in stats["entries"])
    span = times[-1] - times[0]
    cap = bucket_capacity(rpm)
    ids = [r["id"] for r in lines]
    steady_rpm = (len(times) - cap) / span * 60
    outcomes = Counter(e["outcome"] for e in stats["entries"])
    failed = Counter(r["error_kind"] for r in lines if r["status"] == "failed")
    verdicts = Counter(r["verdict"] for r in lines if r["status"] == "ok")
    return {
        "faults": faults, "rows": n, "rpm_limit": rpm, "latency_s": latency, "concurrency": concurrency,
        "timeout_s": timeout, "bucket_capacity": cap, "attempts": len(times),
        "server_outcomes": dict(sorted(outcomes.items())),
        "span_s": round(span, 3), "wall_s": round(wall, 3),
        "achieved_rpm_steady": round(steady_rpm, 1), "share_of_limit_steady": round(steady_rpm / rpm, 4),
        "achieved_rpm_raw": round((len(times) - 1) / span * 60, 1),
        "max_arrivals_in_1s": _max_in_window(times, 1.0), "allowed_in_1s": cap + rpm / 60,
        "rows_per_min_wall": round(len(set(ids)) / wall * 60, 1),
        "lost": n - len(set(ids)), "duplicates": len(ids) - len(set(ids)),
        "failed_rows": dict(failed), "verdicts": dict(verdicts), "sent": run.sent,
    }


def _markdown(results: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    out = ["# kosql judge benchmark (local fake server)", "",
           f"{meta['python']} on {meta['machine']}; limit {meta['rpm']} requests/min, "
           f"{meta['latency']} s server latency, {meta['requests']} rows, concurrency {meta['concurrency']}, "
           f"timeout {meta['timeout']} s, bucket capacity {results[0]['bucket_capacity']:g} (1 s of the rate).", "",
           "| injected faults | attempts | achieved rate (steady) | share of limit | raw rate | max in 1 s "
           "(allowed) | rows/min (wall) | lost | duplicates | failed rows |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        failed = ", ".join(f"{k} {v}" for k, v in r["failed_rows"].items()) or "0"
        out.append(f"| {100 * r['faults']:.0f} % | {r['attempts']} | {r['achieved_rpm_steady']} rpm | "
                   f"{100 * r['share_of_limit_steady']:.1f} % | {r['achieved_rpm_raw']} rpm | "
                   f"{r['max_arrivals_in_1s']} ({r['allowed_in_1s']:g}) | {r['rows_per_min_wall']} | "
                   f"{r['lost']} | {r['duplicates']} | {failed} |")
    out += ["", "Steady rate = (arrivals - bucket capacity) / (last - first arrival), measured at the server. "
            "Failed rows are stored results (bad_json answers are not retried by design), not lost ones. "
            "Server outcomes per scenario are in judge.json.", ""]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rpm", type=float, default=600)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--faults", default="0,0.1")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = ap.parse_args()
    results = []
    for f in [float(x) for x in args.faults.split(",")]:
        r = scenario(args.requests, args.rpm, args.latency, f, args.concurrency, args.timeout)
        print(json.dumps(r), flush=True)
        results.append(r)
    meta = {"python": platform.python_version(), "machine": platform.machine(), "rpm": args.rpm,
            "latency": args.latency, "requests": args.requests, "concurrency": args.concurrency,
            "timeout": args.timeout}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "judge.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    (args.out / "judge.md").write_text(_markdown(results, meta))
    print(_markdown(results, meta))


if __name__ == "__main__":
    main()
