"""parse_schema: every CREATE TABLE form of the foundation issue, errors, lookups and SQLite DDL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kosql.data.schema import KINDS, Schema, SchemaError, parse_schema, to_sqlite_ddl
from kosql.errors import UserError

HERE = Path(__file__).parent
PLAYERS = ("CREATE TABLE players (player_id INT PRIMARY KEY AUTO_INCREMENT, username VARCHAR(255) UNIQUE "
           "NOT NULL, email VARCHAR(255) UNIQUE NOT NULL, password_hash VARCHAR(255) NOT NULL, date_joined "
           "DATETIME NOT NULL, last_login DATETIME);")
SEED_MESSAGES = """CREATE TABLE messages {
    "message_id" SERIAL PRIMARY KEY,
    "conversation_id" INT NOT NULL,
    "sender_id" INT NOT NULL,
    "content" TEXT,
    "timestamp" TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    "read" BOOLEAN DEFAULT FALSE,
    FOREIGN KEY ("conversation_id") REFERENCES conversations("conversation_id"),
    FOREIGN KEY ("sender_id") REFERENCES users("user_id")
};"""


@pytest.fixture(scope="module")
def cases() -> Schema:
    return parse_schema((HERE / "ddl_cases.sql").read_text(encoding="utf-8"))


def test_players_seed_row() -> None:
    schema = parse_schema(PLAYERS)
    assert schema.table_names() == ["players"]
    t = schema.tables["players"]
    assert t.primary_key == ["player_id"]
    pid = t.column("player_id")
    assert pid is not None and pid.kind == "int" and pid.autoincrement and pid.primary_key and not pid.nullable
    email = t.column("email")
    assert email is not None and email.unique and not email.nullable and email.kind == "text"
    last = t.column("last_login")
    assert last is not None and last.nullable and last.kind == "datetime"


def test_seed_braces_messages() -> None:
    schema = parse_schema(SEED_MESSAGES)
    t = schema.table("messages")
    assert t is not None
    assert t.column_names() == ["message_id", "conversation_id", "sender_id", "content", "timestamp", "read"]
    kinds = {c.name: c.kind for c in t.columns}
    assert kinds == {"message_id": "int", "conversation_id": "int", "sender_id": "int", "content": "text",
                     "timestamp": "datetime", "read": "bool"}
    mid = t.column("message_id")
    assert mid is not None and mid.autoincrement and mid.primary_key
    ts = t.column("timestamp")
    assert ts is not None and ts.default is not None and "CURRENT_TIMESTAMP" in ts.default.upper()
    assert [(fk.columns, fk.ref_table, fk.ref_columns) for fk in t.foreign_keys] == [
        (["conversation_id"], "conversations", ["conversation_id"]), (["sender_id"], "users", ["user_id"])]
    assert schema.dialect == "postgres"


def test_all_forms_in_one_context(cases: Schema) -> None:
    assert cases.table_names() == ["players", "orders", "messages", "event_log"]
    orders = cases.tables["orders"]
    assert orders.primary_key == ["order_id"]
    oid = orders.column("order_id")
    assert oid is not None and oid.autoincrement and oid.kind == "int"
    status = orders.column("status")
    assert status is not None and status.enum_values == ["pending", "paid", "shipped"]
    assert status.default == "'pending'" and not status.nullable
    total = orders.column("total")
    assert total is not None and total.kind == "decimal"
    gift = orders.column("is_gift")
    assert gift is not None and gift.kind == "bool"
    created = orders.column("created_at")
    assert created is not None and created.kind == "datetime"
    assert [(fk.columns, fk.ref_table, fk.ref_columns) for fk in orders.foreign_keys] == [
        (["player_id"], "players", ["player_id"])]
    assert ["player_id", "created_at"] in orders.unique_sets


def test_postgres_forms(cases: Schema) -> None:
    messages = cases.tables["messages"]
    sender = messages.column("sender_id")
    assert sender is not None and not sender.nullable
    assert {fk.ref_table for fk in messages.foreign_keys} == {"players", "conversations"}
    log = cases.tables["event_log"]
    assert log.primary_key == ["event_id", "player_id"]
    kinds = {c.name: c.kind for c in log.columns}
    assert kinds == {"event_id": "int", "player_id": "int", "payload": "json", "amount": "decimal",
                     "ratio": "real", "token": "text", "at_time": "time", "on_day": "date"}
    ev = log.column("event_id")
    assert ev is not None and ev.autoincrement
    assert all(c.kind in KINDS for t in cases.tables.values() for c in t.columns)


def test_case_insensitive_lookup(cases: Schema) -> None:
    assert cases.table("PLAYERS") is cases.tables["players"]
    assert cases.table("public.Orders") is cases.tables["orders"]
    assert cases.columns_of("Messages")[-1] == "read"
    assert cases.columns_of("nope") == []
    assert cases.table("nope") is None


@pytest.mark.parametrize("ddl", [
    "CREATE TABLE t (a INT, b TEXT); CREATE TABLE T (c INT);",
    "CREATE TABLE t (a INT, b TEXT) -- trailing comment\n;",
    "/* block */ CREATE TABLE t (a INT, b TEXT);",
])
def test_comments_and_duplicates(ddl: str) -> None:
    schema = parse_schema(ddl)
    assert schema.table_names() == ["t"] and schema.columns_of("t") == ["a", "b"]


@pytest.mark.parametrize("ddl, message", [
    ("", "context has no CREATE TABLE statement"),
    ("SELECT * FROM players;", "context has no CREATE TABLE statement"),
    ("CREATE INDEX i ON t (a);", "context has no CREATE TABLE statement"),
    ("CREATE TABLE t (a INT,, b XYZ ));", "DDL does not parse near"),
])
def test_errors_are_one_sentence(ddl: str, message: str) -> None:
    with pytest.raises(SchemaError) as info:
        parse_schema(ddl)
    assert isinstance(info.value, UserError)
    text = str(info.value)
    assert text.startswith(message) and text.endswith(".") and "\n" not in text


def test_sqlite_ddl_runs_and_keeps_keys(cases: Schema) -> None:
    ddl = to_sqlite_ddl(cases)
    conn = sqlite3.connect(":memory:")
    conn.executescript(ddl)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["players", "orders", "messages", "event_log"]
    info = {r[1]: (r[2], r[5]) for r in conn.execute('PRAGMA table_info("orders")')}
    assert info["order_id"] == ("INTEGER", 1)
    assert info["total"][0] == "NUMERIC" and info["created_at"][0] == "TEXT"
    pk = [r[1] for r in conn.execute('PRAGMA table_info("event_log")') if r[5]]
    assert pk == ["event_id", "player_id"]
    fks = {(r[2], r[3]) for r in conn.execute('PRAGMA foreign_key_list("messages")')}
    assert fks == {("players", "sender_id")}  # the FK to a table missing from the context is dropped
    conn.execute("INSERT INTO players (username, email, password_hash, date_joined) VALUES ('a', 'a@x', 'h', '2024-01-01')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO players (username, email, password_hash, date_joined) VALUES ('b', 'a@x', 'h', '2024-01-01')")


WORLD_1 = """CREATE TABLE `city` (
  `ID` INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL DEFAULT NULL,
  `Name` char(35) NOT NULL DEFAULT '',
  `CountryCode` char(3) NOT NULL DEFAULT '',
  `Population` INTEGER NOT NULL DEFAULT '0',
  FOREIGN KEY (`CountryCode`) REFERENCES `country` (`Code`)
);
CREATE TABLE sqlite_sequence(name,seq);
CREATE TABLE `country` (
  `Code` char(3) NOT NULL DEFAULT '',
  `Name` char(52) NOT NULL DEFAULT '',
  PRIMARY KEY (`Code`)
);"""


def test_typeless_columns_are_kept_and_sqlite_internal_tables_skipped() -> None:
    schema = parse_schema(WORLD_1)
    assert schema.table_names() == ["city", "country"]
    assert schema.columns_of("city") == ["ID", "Name", "CountryCode", "Population"]
    t = parse_schema("CREATE TABLE t(a INT, b, c TEXT, d PRIMARY KEY)").tables["t"]
    assert t.column_names() == ["a", "b", "c", "d"]
    b = t.column("b")
    assert b is not None and b.raw_type == "" and b.kind == "text"
    assert t.primary_key == ["d"]
    assert parse_schema("CREATE TABLE log(name, seq)").columns_of("log") == ["name", "seq"]


def test_typeless_columns_round_trip_to_sqlite() -> None:
    ddl = to_sqlite_ddl(parse_schema("CREATE TABLE t(a INT, b)"))
    con = sqlite3.connect(":memory:")
    con.executescript(ddl)
    assert [r[1] for r in con.execute("PRAGMA table_info(t)")] == ["a", "b"]


def test_only_internal_tables_is_no_schema() -> None:
    with pytest.raises(SchemaError, match="no CREATE TABLE"):
        parse_schema("CREATE TABLE sqlite_sequence(name,seq);")
