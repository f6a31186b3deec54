"""Fixtures of the ask tests: a copy of the bundled 'messenger' SQLite database, and a real
PostgreSQL server (Debian's packages, installed by the test set-up when missing) holding the same
domain, with an owner role that can write and a read-only role with column GRANTs."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

OWNER, OWNER_PW = "kosql_owner", "owner-pw"
READER, READER_PW = "kosql_reader", "reader-pw"
DATABASE = "messenger"


def messenger_source() -> tuple[str, Path]:
    """(DDL with Korean COMMENTs of all messenger tables, path of the bundled SQLite file)."""
    from kosql.data.synth import bundled_dataset

    root = bundled_dataset("small", comments=True)
    best = ""
    for line in (root / "test.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["db_id"] == "messenger" and row["context"].count("CREATE TABLE") > best.count("CREATE TABLE"):
            best = row["context"]
    return best, root / "dbs" / "messenger.sqlite"


@pytest.fixture
def messenger_db(tmp_path: Path) -> Path:
    """A private copy of the bundled messenger SQLite database."""
    _, src = messenger_source()
    dst = tmp_path / "messenger.sqlite"
    shutil.copyfile(src, dst)
    return dst


@dataclass
class PgDomain:
    server: object
    counts: dict[str, int]

    def url(self, user: str = OWNER, password: str = OWNER_PW) -> str:
        return self.server.url(user, password, DATABASE)  # type: ignore[attr-defined]

    @property
    def reader_url(self) -> str:
        return self.url(READER, READER_PW)

    def superuser(self) -> object:
        import psycopg

        return psycopg.connect(self.server.url(database=DATABASE), autocommit=True)  # type: ignore[attr-defined]

    def snapshot(self) -> dict[str, object]:
        """Row counts of every table, the tables, roles and settings that an attack could change."""
        with self.superuser() as conn:  # type: ignore[attr-defined]
            tables = [r[0] for r in conn.execute(
                "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND relkind IN "
                "('r', 'v', 'm', 'S', 'i') ORDER BY 1").fetchall()]
            counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in self.counts}
            sums = conn.execute("SELECT md5(string_agg(u::text, ',' ORDER BY user_id)) FROM users u").fetchone()[0]
            roles = conn.execute("SELECT string_agg(rolname || rolsuper::text, ',' ORDER BY rolname) "
                                 "FROM pg_roles").fetchone()[0]
            settings = conn.execute("SELECT setdatabase, setrole, setconfig::text FROM pg_db_role_setting "
                                    "ORDER BY 1, 2").fetchall()
        return {"tables": tables, "counts": counts, "users_md5": sums, "roles": roles, "settings": settings}


READ_ONLY_ROLE_SQL = f"""
CREATE ROLE {READER} LOGIN PASSWORD '{READER_PW}';
GRANT CONNECT ON DATABASE {DATABASE} TO {READER};
GRANT USAGE ON SCHEMA public TO {READER};
GRANT SELECT ON chat_rooms, messages TO {READER};
GRANT SELECT (user_id, username, status_message, created_at) ON users TO {READER};
ALTER ROLE {READER} SET default_transaction_read_only = on;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
"""


def _start_domain() -> tuple[object, PgDomain]:
    import psycopg

    from kosql.testing.postgres import load_domain, start_postgres

    server = start_postgres()
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {OWNER} LOGIN PASSWORD '{OWNER_PW}'")
        conn.execute(f"CREATE DATABASE {DATABASE} OWNER {OWNER}")
    with psycopg.connect(server.url(database=DATABASE), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS dblink")  # so that dblink_exec exists to be refused
    ddl, sqlite_path = messenger_source()
    with psycopg.connect(server.url(OWNER, OWNER_PW, DATABASE), autocommit=True) as conn:
        counts = load_domain(conn, ddl, sqlite_path)
        conn.execute("ANALYZE")
    with psycopg.connect(server.url(database=DATABASE), autocommit=True) as conn:
        for stmt in READ_ONLY_ROLE_SQL.strip().split(";\n"):
            if stmt.strip():
                conn.execute(stmt.strip().rstrip(";"))
        conn.execute(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {OWNER}")
    return server, PgDomain(server=server, counts=counts)


@pytest.fixture(scope="session")
def pg() -> Iterator[PgDomain]:
    """A running PostgreSQL server with the messenger domain (skipped locally without apt; in CI a
    server that cannot be had fails the tests)."""
    from kosql.testing.postgres import postgres_available

    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL could not be installed (apt-get install postgresql), and CI is set")
        pytest.skip("PostgreSQL is not installed and apt-get is not available here (as root)")
    server, domain = _start_domain()
    try:
        yield domain
    finally:
        server.stop()  # type: ignore[attr-defined]
