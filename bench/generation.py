"""Generation benchmarks: the seed's pipeline vs kosql's batched backend, and speed per embedded model.

    .venv/bin/python bench/generation.py [--n 64] [--batch-size 8] [--max-new-tokens 128]
    .venv/bin/python bench/generation.py --models [all | NAME,NAME] [--n 16] [--engines hf,llamacpp]
    .venv/bin/python bench/generation.py --gpu      # CUDA only: bf16 and 4-bit, random ~1B Llama

``--models`` (bench/generation_models.py): every embedded model on each engine that runs it (hf;
llama.cpp for the Qwen2.5-Coder GGUFs), the same N bundled test rows in each model's recipe prompt
format, each (model, engine) in its own subprocess: load seconds, seconds per row, completion and
prompt tokens/s, peak RSS, and llama.cpp against transformers side by side. Its defaults are the
quickstart's (batch size 16, max_new_tokens 96) and 16 rows; writes bench/results/generation-models.json
and .md. The rest of this docstring is the default comparison:

(a) seed: transformers ``pipeline`` on the default model, one prompt at a time, greedy, no stop
    strings, ``return_full_text=False``. The seed's ``max_length=512`` (prompt + answer) cannot be
    kept: SmolLM2's tokenizer turns these Korean prompts into ~400-590 tokens (the seed's Yi-Ko
    tokenizer needed far fewer), leaving 0-100 answer tokens, and transformers 5 refuses prompts
    of 512+ tokens. So both ways get the same answer budget, ``--max-new-tokens`` (default 128);
    ``--seed-max-length`` runs the literal seed call where prompts allow it;
(b) kosql: ``HFBackend`` batched (length-sorted, left padding) with SQL stop strings.
Each way runs in its own subprocess (so peak RSS is its own) with the same torch thread count.
Writes bench/results/generation.json and generation.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"

_DDLS = {
    "players": "CREATE TABLE players (\n  player_id INT PRIMARY KEY,\n  username VARCHAR(255) UNIQUE NOT NULL,\n"
               "  email VARCHAR(255),\n  level INT DEFAULT 1,\n  created_at DATETIME\n);",
    "orders": "CREATE TABLE orders (\n  order_id INT PRIMARY KEY,\n  customer_name VARCHAR(100),\n"
              "  status VARCHAR(20),\n  amount DECIMAL(10, 2),\n  order_date DATE\n);",
    "employees": "CREATE TABLE employees (\n  emp_id INT PRIMARY KEY,\n  name VARCHAR(50),\n"
                 "  department VARCHAR(50),\n  salary INT,\n  hire_date DATE\n);",
    "products": "CREATE TABLE products (\n  product_id INT PRIMARY KEY,\n  name VARCHAR(100),\n"
                "  category VARCHAR(50),\n  price INT,\n  stock INT\n);",
}
_QUESTIONS = {
    "players": ["모든 플레이어 정보를 조회해 줘", "레벨이 10 이상인 플레이어의 이름을 보여줘",
                "이메일이 'gmail.com'으로 끝나는 사용자 수를 알려줘", "가장 레벨이 높은 플레이어 3명을 보여줘",
                "username이 '김철수'인 플레이어의 이메일을 알려줘", "2023년에 가입한 플레이어 수를 세어줘",
                "플레이어들의 평균 레벨을 알려줘", "최근 가입한 순서대로 플레이어 이름을 나열해줘"],
    "orders": ["모든 주문을 보여줘", "상태가 '배송 완료'인 주문의 수를 알려줘", "금액이 가장 큰 주문 5개를 보여줘",
               "고객별 총 주문 금액을 구해줘", "2024년 1월에 들어온 주문을 조회해줘", "주문 금액의 평균을 알려줘",
               "'홍길동' 고객의 주문 내역을 보여줘", "상태별 주문 수를 세어줘"],
    "employees": ["모든 직원의 이름과 부서를 보여줘", "급여가 5000 이상인 직원을 찾아줘", "부서별 평균 급여를 알려줘",
                  "가장 최근에 입사한 직원은 누구야?", "'개발팀' 직원 수를 알려줘", "급여 순으로 직원을 정렬해줘",
                  "2020년 이전에 입사한 직원 목록을 보여줘", "부서별 최고 급여를 구해줘"],
    "products": ["모든 상품을 보여줘", "가격이 10000원 이하인 상품을 보여줘", "카테고리별 상품 수를 알려줘",
                 "재고가 없는 상품 이름을 알려줘", "가장 비싼 상품을 찾아줘", "'전자제품' 카테고리의 평균 가격은?",
                 "이름에 '노트북'이 들어간 상품을 찾아줘", "재고가 많은 순서로 상품 10개를 보여줘"],
}


def builtin_pairs() -> list[tuple[str, str]]:
    """64 (ddl, question) pairs: 4 schemas x 8 questions, twice with a reworded suffix."""
    pairs = [(_DDLS[t], q) for t in _DDLS for q in _QUESTIONS[t]]
    return pairs + [(d, q + " (SQL로)") for d, q in pairs]


def bench_pairs(n: int) -> tuple[list[tuple[str, str]], str]:
    """Prompts from the bundled dataset's test split when it exists, else the built-in list."""
    try:
        from kosql.data.load import load_examples
        from kosql.data.synth import bundled_dataset  # type: ignore[attr-defined]

        folder = Path(bundled_dataset())
        files = sorted(folder.glob("*test*.jsonl")) or sorted(folder.glob("*.jsonl"))
        examples = [e for f in files for e in load_examples(f)]
        if len(examples) >= n:
            return [(e.context, e.question) for e in examples[:n]], f"bundled dataset {folder}"
    except Exception:  # noqa: BLE001 - the bundled dataset is optional here
        pass
    pairs = builtin_pairs()
    return (pairs * (n // len(pairs) + 1))[:n], "built-in list of 64 Korean prompts"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_seed(prompts: list[str], threads: int, max_new_tokens: int, seed_max_length: bool) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline
    from transformers.utils import logging as hf_logging

    from kosql.models.resolve import resolve_model

    hf_logging.set_verbosity_error()
    torch.set_num_threads(threads)
    path = resolve_model("smollm2-135m")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    pipe = pipeline("text-generation", model=model, tokenizer=tokenizer)
    texts, tokens = [], 0
    start = time.perf_counter()
    for prompt in prompts:
        if seed_max_length:  # the seed's literal call; fails for prompts of >= 512 tokens
            out = pipe(prompt, do_sample=False, return_full_text=False, max_length=512, truncation=True)
        else:
            out = pipe(prompt, do_sample=False, return_full_text=False, max_new_tokens=max_new_tokens)
        text = out[0]["generated_text"]
        texts.append(text)
        tokens += len(tokenizer(text, add_special_tokens=False)["input_ids"])
    seconds = time.perf_counter() - start
    return {"texts": texts, "seconds": seconds, "completion_tokens": tokens, "peak_rss_mb": _peak_rss_mb()}


def run_kosql(prompts: list[str], threads: int, batch_size: int, max_new_tokens: int) -> dict[str, Any]:
    from kosql.models.base import GenerationParams
    from kosql.models.hf import HFBackend

    backend = HFBackend("smollm2-135m", num_threads=threads)
    params = GenerationParams(batch_size=batch_size, max_new_tokens=max_new_tokens)
    start = time.perf_counter()
    gens = backend.generate(prompts, params)
    seconds = time.perf_counter() - start
    return {"texts": [g.text for g in gens], "seconds": seconds,
            "completion_tokens": sum(g.completion_tokens for g in gens),
            "hit_limit": [g.completion_tokens >= max_new_tokens for g in gens], "peak_rss_mb": _peak_rss_mb()}


def _child(args: argparse.Namespace) -> int:
    prompts = json.loads(Path(args.prompts).read_text(encoding="utf-8"))
    if args.way == "seed":
        result = run_seed(prompts, args.threads, args.max_new_tokens, args.seed_max_length)
    else:
        result = run_kosql(prompts, args.threads, args.batch_size, args.max_new_tokens)
    Path(args.result).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


def _spawn(way: str, prompts_file: Path, tmp: Path, args: argparse.Namespace, threads: int) -> dict[str, Any]:
    result = tmp / f"{way}.json"
    cmd = [sys.executable, __file__, "--way", way, "--prompts", str(prompts_file), "--result", str(result),
           "--threads", str(threads), "--batch-size", str(args.batch_size),
           "--max-new-tokens", str(args.max_new_tokens)] + (["--seed-max-length"] if args.seed_max_length else [])
    print(f"[{way}] running ...", flush=True)
    subprocess.run(cmd, check=True)
    data: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    print(f"[{way}] {data['seconds']:.1f} s, {data['completion_tokens']} tokens", flush=True)
    return data


def compare(seed: dict[str, Any], kosql: dict[str, Any]) -> dict[str, Any]:
    from kosql.sql.extract import extract_sql

    a = [extract_sql(t) for t in seed["texts"]]
    b = [extract_sql(t) for t in kosql["texts"]]
    same = [x == y for x, y in zip(a, b, strict=True)]
    finished = [not h for h in kosql["hit_limit"]]
    return {
        "identical_sql": sum(same),
        "identical_sql_where_kosql_finished": sum(s for s, f in zip(same, finished, strict=True) if f),
        "kosql_finished_before_limit": sum(finished),
        "differences": [{"i": i, "seed": x, "kosql": y} for i, (x, y) in enumerate(zip(a, b, strict=True))
                        if x != y][:10],
    }


def _markdown(report: dict[str, Any]) -> str:
    s, k, c = report["seed"], report["kosql"], report["comparison"]
    n = report["n_prompts"]
    return "\n".join([
        "# Generation benchmark (smollm2-135m, CPU)", "",
        f"{n} prompts from the {report['prompt_source']}; torch threads: {report['threads']}; "
        f"machine: {report['machine']}.", "",
        "| way | wall s | completion tokens | tokens/s | prompts/s | peak RSS MB |",
        "|---|---|---|---|---|---|",
        f"| seed pipeline, 1 prompt at a time, no stops, {report['seed_budget']} | {s['seconds']:.1f} | {s['completion_tokens']} | "
        f"{s['tokens_per_s']:.1f} | {n / s['seconds']:.2f} | {s['peak_rss_mb']:.0f} |",
        f"| kosql batched (bs {report['batch_size']}) + stop strings, max_new_tokens "
        f"{report['max_new_tokens']} | {k['seconds']:.1f} | {k['completion_tokens']} | {k['tokens_per_s']:.1f} | "
        f"{n / k['seconds']:.2f} | {k['peak_rss_mb']:.0f} |", "",
        f"**Speed-up (wall time): {report['speedup']:.2f}x.**", "",
        f"Identical SQL after extraction: {c['identical_sql']}/{n}; where kosql stopped before its token "
        f"limit: {c['identical_sql_where_kosql_finished']}/{c['kosql_finished_before_limit']}.", "",
    ])


def run_gpu_bench() -> dict[str, Any]:  # pragma: no cover - CUDA only
    """bf16 and 4-bit throughput of a random-initialized ~1B Llama (batch 8, 128 new tokens)."""
    import torch
    from transformers import BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
                      num_key_value_heads=4, vocab_size=32000)
    out: dict[str, Any] = {}
    for mode in ("bf16", "4bit"):
        torch.manual_seed(0)
        model: Any = LlamaForCausalLM(cfg)
        model = model.to(torch.bfloat16)
        if mode == "4bit":
            with tempfile.TemporaryDirectory() as tmp:
                model.save_pretrained(tmp)
                model = LlamaForCausalLM.from_pretrained(tmp, quantization_config=BitsAndBytesConfig(
                    load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16), device_map={"": 0})
        else:
            model = model.cuda()
        ids = torch.randint(0, 32000, (8, 256), device="cuda")
        torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.inference_mode():
            model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=128, min_new_tokens=128,
                           do_sample=False, pad_token_id=0)
        torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        out[mode] = {"seconds": seconds, "tokens_per_s": 8 * 128 / seconds,
                     "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20}
        del model
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    return out


def _run_models(args: argparse.Namespace, argv: list[str] | None) -> int:
    from bench.generation_models import run_models
    from kosql.pipeline.steps import GenerationSettings

    quickstart = GenerationSettings()
    args.n = 16 if args.n is None else args.n
    args.batch_size = args.batch_size or quickstart.batch_size
    args.max_new_tokens = args.max_new_tokens or quickstart.max_new_tokens
    shown = sys.argv[1:] if argv is None else argv
    env = [f"KOSQL_THREADS={os.environ['KOSQL_THREADS']}"] if os.environ.get("KOSQL_THREADS") else []
    return run_models(args, " ".join([*env, ".venv/bin/python bench/generation.py", *shown]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=None, help="rows (default 64; --models: 16)")
    parser.add_argument("--batch-size", type=int, default=None, help="default 8; --models: the quickstart's (16)")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default 128; --models: the quickstart's (96)")
    parser.add_argument("--models", nargs="?", const="all", default=None, metavar="all|NAME,NAME",
                        help="speed per embedded model and engine (bench/generation_models.py)")
    parser.add_argument("--engines", default="hf,llamacpp", help="--models: engines to try (hf, llamacpp)")
    parser.add_argument("--seed", type=int, default=0, help="--models: seed of the test-row sample")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results (default bench/results)")
    parser.add_argument("--seed-max-length", action="store_true",
                        help="seed way with its literal max_length=512 (needs prompts under 512 tokens)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = kosql's default)")
    parser.add_argument("--gpu", action="store_true", help="CUDA: bf16 / 4-bit throughput of a random 1B Llama")
    parser.add_argument("--way", choices=("seed", "kosql"), help=argparse.SUPPRESS)
    parser.add_argument("--prompts", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.models is not None:
        return _run_models(args, argv)
    args.n = 64 if args.n is None else args.n
    args.batch_size = args.batch_size or 8
    args.max_new_tokens = args.max_new_tokens or 128
    if args.way:
        return _child(args)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.gpu:
        gpu = run_gpu_bench()
        (args.out / "generation_gpu.json").write_text(json.dumps(gpu, indent=2))
        print(json.dumps(gpu, indent=2))
        return 0
    from kosql.models.cpu import default_threads
    from kosql.models.resolve import resolve_model
    from kosql.prompts import make_prompt

    resolve_model("smollm2-135m")  # convert once, outside the timings
    threads = args.threads or default_threads()
    pairs, source = bench_pairs(max(args.n, 1))
    prompts = [make_prompt(d, q) for d, q in pairs]
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        prompts_file = tmp / "prompts.json"
        prompts_file.write_text(json.dumps(prompts, ensure_ascii=False), encoding="utf-8")
        kosql = _spawn("kosql", prompts_file, tmp, args, threads)
        seed = _spawn("seed", prompts_file, tmp, args, threads)
    for data in (seed, kosql):
        data["tokens_per_s"] = data["completion_tokens"] / data["seconds"]
    import platform

    report = {
        "n_prompts": len(prompts), "prompt_source": source, "threads": threads,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                   f"load avg {os.getloadavg()[0]:.1f}",
        "batch_size": args.batch_size, "max_new_tokens": args.max_new_tokens,
        "seed_budget": "max_length 512" if args.seed_max_length else f"max_new_tokens {args.max_new_tokens}",
        "seed": {k: v for k, v in seed.items() if k != "texts"},
        "kosql": {k: v for k, v in kosql.items() if k not in ("texts", "hit_limit")},
        "speedup": seed["seconds"] / kosql["seconds"],
        "comparison": compare(seed, kosql),
    }
    (args.out / "generation.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    md = _markdown(report)
    (args.out / "generation.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
