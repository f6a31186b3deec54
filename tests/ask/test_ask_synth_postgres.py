"""`kosql data synth --db postgresql://...` against the real PostgreSQL server of tests/ask/conftest.py:
rows in PostgreSQL's dialect that run there, the URL recorded without its password, the read-only
role's hidden columns never sampled nor shown."""

from __future__ import annotations

import json
from pathlib import Path

from kosql.ask.connect import open_database
from kosql.pipeline.synth_db import synth_from_database


def test_synth_from_a_postgres_database_as_the_read_only_role(pg: object, tmp_path: Path) -> None:
    url = pg.reader_url  # type: ignore[attr-defined]
    out = tmp_path / "pgsynth"
    summary = synth_from_database(url, out, phrasings=2, max_queries=60, progress=False)
    assert summary.dialect == "postgres" and summary.queries == 60
    rows = [json.loads(x) for s in ("train", "dev", "test")
            for x in (out / f"{s}.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 60
    connector = open_database(url)
    try:
        for row in rows:
            assert "reader-pw" not in json.dumps(row, ensure_ascii=False)
            assert row["db_url"].startswith("postgresql") and row["db_id"] == "messenger" and "db_path" not in row
            assert "phone" not in row["context"] and "phone" not in row["answer"]  # not granted to the reader
            res = connector.execute(row["answer"], max_rows=1000, timeout=5.0, denied_columns=[])
            assert res.ok and res.rows, (row["answer"], res.error)
    finally:
        connector.close()
    assert any("TO_CHAR" in r["answer"] or "JOIN" in r["answer"] for r in rows)
