"""More DDL forms seen in the wild: each parses, gets the right kinds, and builds a database."""

from __future__ import annotations

import pytest

from kosql.data.schema import parse_schema
from kosql.db.build import build_database

FORMS = [
    ("CREATE TABLE a (id INT NOT NULL, name VARCHAR(20), KEY idx_name (name), FULLTEXT KEY ft (name), "
     "CONSTRAINT pk_a PRIMARY KEY (id), CHECK (id > 0))", {"a": {"id": "int", "name": "text"}}),
    ("CREATE TABLE b (id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tags TEXT[], "
     "created TIMESTAMP DEFAULT NOW())", {"b": {"id": "int", "tags": "json", "created": "datetime"}}),
    ("CREATE TABLE d (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) CHARACTER SET utf8mb4 "
     "COLLATE utf8mb4_unicode_ci NOT NULL, price DECIMAL(5,2) UNSIGNED DEFAULT 0.00) ENGINE=InnoDB AUTO_INCREMENT=10",
     {"d": {"id": "int", "name": "text", "price": "decimal"}}),
    ("CREATE TABLE e (id INT PRIMARY KEY, data JSON, flag BIT(1), y YEAR, amount FLOAT(7,2), t TINYTEXT, "
     "bin VARBINARY(16), d DATETIME(6))",
     {"e": {"id": "int", "data": "json", "flag": "bool", "y": "int", "amount": "real", "t": "text",
            "bin": "blob", "d": "datetime"}}),
    ("CREATE TABLE `user profiles` (`user id` INT PRIMARY KEY, `full name` VARCHAR(50))",
     {"user profiles": {"user id": "int", "full name": "text"}}),
    ("CREATE TABLE IF NOT EXISTS f (id BIGINT NOT NULL PRIMARY KEY, ts TIMESTAMP WITHOUT TIME ZONE, ttz TIMETZ, "
     "money_col MONEY)", {"f": {"id": "int", "ts": "datetime", "ttz": "time", "money_col": "decimal"}}),
    ("create table g (id int primary key, parent_id int references g(id), name text)",
     {"g": {"id": "int", "parent_id": "int", "name": "text"}}),
    ("CREATE TABLE g (id INT PRIMARY KEY)\nCREATE TABLE i (a INT, b INT, PRIMARY KEY (a, b), "
     "FOREIGN KEY (a) REFERENCES g(id))", {"g": {"id": "int"}, "i": {"a": "int", "b": "int"}}),
]


@pytest.mark.parametrize("ddl, expected", FORMS, ids=[f[0][:40] for f in FORMS])
def test_form_parses_and_builds(ddl: str, expected: dict[str, dict[str, str]]) -> None:
    schema = parse_schema(ddl)
    got = {t.name: {c.name: c.kind for c in t.columns} for t in schema.tables.values()}
    assert got == expected
    conn = build_database(schema, seed=2)
    for name in schema.table_names():
        assert conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] > 0


def test_enum_values_from_create_type_and_check() -> None:
    schema = parse_schema("CREATE TYPE mood AS ENUM ('sad', 'ok');\nCREATE TABLE c (id SERIAL, m mood NOT NULL, "
                          "status VARCHAR(10) CHECK (status IN ('active', 'inactive')))")
    table = schema.tables["c"]
    m, status = table.column("m"), table.column("status")
    assert m is not None and m.enum_values == ["sad", "ok"]
    assert status is not None and status.enum_values == ["active", "inactive"]
    conn = build_database(schema, seed=0)
    assert {r[0] for r in conn.execute("SELECT m FROM c")} <= {"sad", "ok"}


def test_self_reference_draws_existing_keys() -> None:
    schema = parse_schema("CREATE TABLE emp (id INT PRIMARY KEY, manager_id INT REFERENCES emp(id), name TEXT)")
    conn = build_database(schema, seed=3)
    orphans = conn.execute("SELECT COUNT(*) FROM emp WHERE manager_id IS NOT NULL "
                           "AND manager_id NOT IN (SELECT id FROM emp)").fetchone()[0]
    assert orphans == 0
