"""Shared pieces of the per-model benchmarks (``bench/generation.py --models``, ``bench/training.py --models``).

Each measured (model, engine) or model runs in its own subprocess, so its peak RSS is its own; the
parent only picks the models, prepares their files once (outside any timing) and writes the report.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"


def select_models(spec: str) -> list[str]:
    """'all' (every embedded model, in kosql's order) or a comma-separated list of embedded model names."""
    from kosql.models.embedded import EMBEDDED_MODELS

    if spec.strip() in ("", "all"):
        return list(EMBEDDED_MODELS)
    names = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [n for n in names if n not in EMBEDDED_MODELS]
    if unknown:
        raise SystemExit(f"unknown model(s) {', '.join(unknown)}: choose from {', '.join(EMBEDDED_MODELS)} or 'all'")
    return names


def thread_count(threads: int) -> int:
    """``threads`` when given, else kosql's default (``KOSQL_THREADS`` or all usable cores)."""
    from kosql.models.cpu import default_threads

    return threads or default_threads()


def machine() -> str:
    from kosql.models.cpu import cpu_model_name

    return (f"{cpu_model_name()} ({platform.machine()}), {os.cpu_count()} cores, "
            f"load avg {os.getloadavg()[0]:.1f} at the start")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def prepare_model(name: str) -> None:
    """Assemble and check the model's GGUF and convert it for transformers (once; in a child process,
    so a first conversion neither counts in a timing nor in a measured process's peak RSS)."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from kosql.models.embedded import EMBEDDED_MODELS, "
            "locate_gguf; from kosql.models.resolve import resolve_model; "
            "locate_gguf(EMBEDDED_MODELS[sys.argv[2]]); resolve_model(sys.argv[2])")
    subprocess.run([sys.executable, "-c", code, str(ROOT), name], check=True, cwd=ROOT)


def run_child(cmd: list[str], result: Path, label: str) -> dict[str, Any]:
    """Run one measurement subprocess that writes its JSON to ``result``; a failure comes back as
    ``{"error": ...}`` (never as numbers); its own messages go to this process's stderr."""
    print(f"[{label}] running ...", flush=True)
    proc = subprocess.run(cmd, cwd=ROOT)
    if proc.returncode != 0 or not result.exists():
        print(f"[{label}] FAILED (exit {proc.returncode}; its messages are above)", file=sys.stderr, flush=True)
        return {"error": f"the measuring process exited with {proc.returncode}"}
    data: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    return data


def write_report(out_dir: Path, name: str, report: dict[str, Any], markdown: str) -> None:
    """``<out_dir>/<name>.json`` and ``.md`` (out_dir: bench/results unless --out says otherwise)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out_dir / f"{name}.md").write_text(markdown, encoding="utf-8")


def fmt(value: Any, digits: int = 1) -> str:
    """A table cell: a number rounded, '-' for None."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)
