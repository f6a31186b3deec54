"""/api/ask with `kosql serve --vote 4`: the answer carries the vote (share, greedy agreement, whether it
is sure) and generation goes through the server's micro-batcher."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from kosql.serve.app import build_state, create_app
from kosql.serve.config import ServeConfig
from kosql.serve.live import serve_in_thread

GREEDY = "SELECT count(*) FROM orders WHERE ordered_at LIKE '2024%'"
SAMPLES = ["SELECT count(*) FROM orders WHERE YEAR(ordered_at) = 2024", "SELECT count(*) FROM orders",
           "SELECT count(*) FROM customers WHERE city = '서울'", "SELECT max(amount) FROM orders"]


def _ask(db: Path, backend: Any, tmp_path: Path, **config: Any) -> dict[str, Any]:
    cfg = ServeConfig(model_id="t", feedback_path=tmp_path / "fb.jsonl", **config)
    state = build_state(cfg, backend, db=str(db))
    with serve_in_thread(create_app(state)) as url:
        r = httpx.post(url + "/api/ask", json={"question": "2024년에 주문된 건수는?"}, timeout=30)
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        out["_batches"] = state.batcher.stats.batches
        return out


def test_api_ask_answers_with_the_vote_and_its_confidence(orders_db: Path, scripted: Any, tmp_path: Path) -> None:
    out = _ask(orders_db, scripted(greedy=GREEDY, samples=SAMPLES), tmp_path, vote=4, min_confidence=0.4)
    vote = out["vote"]
    assert out["rows"] == [[3]] and out["error"] is None and out["sql"] == GREEDY
    assert vote["k"] == 4 and vote["share"] == 0.4 and vote["greedy_agreed"] is True and vote["confident"] is True
    assert vote["candidates"][1]["repair"]["how"] == "transpiled" and out["_batches"] == 2  # greedy, then samples
    unsure = _ask(orders_db, scripted(greedy=GREEDY, samples=SAMPLES), tmp_path, vote=4)
    assert unsure["vote"]["confident"] is False and unsure["vote"]["min_confidence"] == 0.5
    plain = _ask(orders_db, scripted(greedy=GREEDY, samples=SAMPLES), tmp_path)
    assert plain["vote"] is None and plain["rows"] == [[3]]

