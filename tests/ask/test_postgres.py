"""kosql ask against a real PostgreSQL server (tests/ask/conftest.py starts it): rows for a new user,
the known ways around a read-only connection fail at the connection layer, adversarial statements
sent past the guard change nothing, runaway queries stop, the cost check and the write warning."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from kosql.ask import Asker
from kosql.ask.connect import open_database
from kosql.models.fake import FakeBackend
from kosql.sql.guard import load_policy
from kosql.testing.sqlfile import read_blocks

GUARD_DIR = Path(__file__).resolve().parent.parent / "guard"
POLICY = GUARD_DIR / "policy.yaml"
RUNAWAY = "SELECT count(*) FROM messages a, messages b, messages c, messages d, messages e"


def _run(connector: object, sql: str, timeout: float = 1.0) -> object:
    return connector.execute(sql, max_rows=10, timeout=timeout)  # type: ignore[attr-defined]


def test_ask_on_postgres_as_the_read_only_role_returns_rows(pg: object) -> None:
    backend = FakeBackend(reply=lambda _p: "SELECT username FROM users ORDER BY user_id LIMIT 3;")
    asker = Asker(pg.reader_url, backend=backend, policy=load_policy(POLICY))  # type: ignore[attr-defined]
    result = asker.ask("가장 먼저 가입한 사용자 세 명의 이름은?")
    assert result.error is None, result.error
    assert len(result.rows) == 3 and result.columns == ["username"]
    assert "Estimated cost" in result.cost
    prompt = backend.seen[0]
    assert "COMMENT '사용자 이름'" in prompt and "phone" not in prompt  # column GRANTs hide phone/email
    assert asker.write_privileges() == []
    asker.close()


def test_kosql_ask_cli_on_postgres_warns_when_the_role_can_write(pg: object) -> None:
    cmd = [sys.executable, "-m", "kosql", "ask", "채팅방은 몇 개?", "--sql", "SELECT count(*) AS n FROM chat_rooms"]
    owner = subprocess.run([*cmd, "--db", pg.url()], capture_output=True, text=True, timeout=120)  # type: ignore[attr-defined]
    assert owner.returncode == 0, owner.stderr
    assert "50" in owner.stdout and "Warning: the database role can write" in owner.stderr
    reader = subprocess.run([*cmd, "--db", pg.reader_url], capture_output=True, text=True, timeout=120)  # type: ignore[attr-defined]
    assert reader.returncode == 0 and "Warning" not in reader.stderr and "50" in reader.stdout


def test_known_bypasses_fail_at_the_connection_layer_even_for_a_role_that_can_write(pg: object) -> None:
    before = pg.snapshot()  # type: ignore[attr-defined]
    owner = open_database(pg.url())  # type: ignore[attr-defined]
    attempts = [
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SET TRANSACTION READ WRITE",
        "SET default_transaction_read_only = off",
        "EXPLAIN ANALYZE DELETE FROM users",
        "WITH d AS (DELETE FROM messages RETURNING *) SELECT count(*) FROM d",
        "SELECT 1; DELETE FROM users",
        "SET TRANSACTION READ WRITE; DELETE FROM users",
        "SELECT set_config('statement_timeout', '0', false)",
        "COMMIT",
    ]
    for sql in attempts:
        _run(owner, sql)
        # whatever the statement did to the session, the next request is read-only again
        res = _run(owner, "DELETE FROM users WHERE user_id = 1")
        assert not res.ok and res.error_kind == "forbidden", (sql, res)
        res = _run(owner, "CREATE TABLE pwn (a int)")
        assert not res.ok, sql
    # set_config('statement_timeout', '0', false) inside the request cannot lift the request's limit
    # (1 s): lifted, the sleep would end after 60 s without a timeout; the bound leaves a loaded
    # machine plenty of room
    start = time.monotonic()
    res = _run(owner, "SELECT set_config('statement_timeout', '0', false), pg_sleep(60)")
    assert res.error_kind == "timeout" and time.monotonic() - start < 30
    res = _run(owner, "SELECT pg_sleep(5)")
    assert res.error_kind == "timeout"
    owner.close()
    assert pg.snapshot() == before  # type: ignore[attr-defined]


def test_dblink_exec_fails_for_the_read_only_role(pg: object) -> None:
    before = pg.snapshot()  # type: ignore[attr-defined]
    reader = open_database(pg.reader_url)  # type: ignore[attr-defined]
    conninfo = f"host=127.0.0.1 port={pg.server.port} dbname=messenger user=kosql_owner password=owner-pw"  # type: ignore[attr-defined]
    res = _run(reader, f"SELECT dblink_exec('{conninfo}', 'DELETE FROM messages')")
    assert not res.ok and res.error_kind == "forbidden", res
    reader.close()
    assert pg.snapshot() == before  # type: ignore[attr-defined]


def test_adversarial_statements_sent_past_the_guard_change_nothing(pg: object) -> None:
    before = pg.snapshot()  # type: ignore[attr-defined]
    ran: dict[str, list[str]] = {}
    for url in (pg.url(), pg.reader_url):  # type: ignore[attr-defined]
        connector = open_database(url)
        for sql in read_blocks(GUARD_DIR / "adversarial.sql"):
            if _run(connector, sql, timeout=0.5).ok:  # type: ignore[attr-defined]
                ran.setdefault(url, []).append(sql)
        connector.close()
    assert pg.snapshot() == before  # type: ignore[attr-defined]
    # what the read-only role got to run reads no denied column (its column GRANTs leave them out)
    read = ran.get(pg.reader_url, [])  # type: ignore[attr-defined]
    assert all("phone" not in s.lower() and "email" not in s.lower() for s in read), read
    assert not Path("/tmp/kosql-pwn").exists() and not Path("/tmp/kosql-users.csv").exists()


def test_the_read_only_role_cannot_read_denied_columns(pg: object) -> None:
    reader = open_database(pg.reader_url)  # type: ignore[attr-defined]
    for sql in ("SELECT phone FROM users", "SELECT * FROM users", "SELECT username FROM users WHERE email LIKE '%'"):
        res = _run(reader, sql)
        assert res.error_kind == "forbidden", sql
    assert _run(reader, "SELECT count(*) FROM users").ok
    reader.close()


def test_runaway_query_stops_within_the_time_limit(pg: object) -> None:
    policy = load_policy(POLICY)  # time_limit 1 s
    asker = Asker(pg.reader_url, policy=policy, allow_expensive=True)  # type: ignore[attr-defined]
    result = asker.run_sql("runaway", RUNAWAY)
    assert result.error is not None and "time limit" in result.error
    # stopped by the limit: unstopped, the five-way cross join runs for hours (generous for a busy machine)
    assert result.timings["execute"] < policy.time_limit + 15
    asker.close()


def test_cost_check_on_postgres(pg: object) -> None:
    asker = Asker(pg.reader_url, policy=load_policy(POLICY))  # type: ignore[attr-defined]
    expensive = asker.run_sql("runaway", RUNAWAY)
    assert expensive.error is not None and "too expensive" in expensive.error and "cost" in expensive.cost
    assert "execute" not in expensive.timings
    cheap = asker.run_sql("q", "SELECT title FROM chat_rooms WHERE room_id = 3")
    assert cheap.error is None and len(cheap.rows) == 1
    plan = asker.connector.plan("DELETE FROM messages", timeout=1.0)
    from kosql.ask.cost import judge_cost

    report = judge_cost(plan, asker.policy)
    assert plan.error or (report.writes and report.over_budget)  # a ModifyTable plan is refused
    asker.close()


def test_runs_from_several_threads(pg: object) -> None:
    from concurrent.futures import ThreadPoolExecutor

    asker = Asker(pg.reader_url, policy=load_policy(POLICY))  # type: ignore[attr-defined]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: asker.run_sql("q", f"SELECT room_id FROM chat_rooms WHERE room_id = {i}"),
                                range(1, 21)))
    assert [r.rows for r in results] == [[[i]] for i in range(1, 21)]
    asker.close()
