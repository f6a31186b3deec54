"""Domain schemas, the rendered DDL, the SQLite databases, and the Korean particle helper."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kosql.data.schema import parse_schema
from kosql.data.synth.catalog2 import DOMAINS
from kosql.data.synth.context import conj
from kosql.data.synth.domains import display_ddl, validate_domain
from kosql.data.synth.korean import josa


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.db_id)
def test_domain_valid_and_ddl(domain) -> None:  # type: ignore[no-untyped-def]
    validate_domain(domain)
    ddl = display_ddl(domain)
    assert ddl.count("CREATE TABLE") == len(domain.tables)
    assert "FOREIGN KEY" in ddl and "REFERENCES" in ddl
    kinds = {c.base_type for t in domain.tables for c in t.columns}
    assert {"INT", "VARCHAR"} <= kinds and kinds & {"DATE", "DATETIME"}
    for t in domain.tables:
        assert t.ko and all(c.ko for c in t.columns)
    assert "COMMENT" not in ddl
    schema = parse_schema(display_ddl(domain, comments=True))  # Korean names as COMMENTs
    for t in domain.tables:
        parsed = schema.table(t.name)
        assert parsed is not None and parsed.comment == t.ko
        assert [c.comment for c in parsed.columns] == [c.ko for c in t.columns]


def test_databases_have_rows_nulls_and_consistent_fks(small_dataset: Path) -> None:
    for domain in DOMAINS:
        conn = sqlite3.connect(small_dataset / "dbs" / f"{domain.db_id}.sqlite")
        try:
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            for t in domain.tables:
                n = conn.execute(f"SELECT COUNT(*) FROM {t.name}").fetchone()[0]
                assert 5 <= n <= 1000
                for c in t.columns:
                    nulls = conn.execute(f"SELECT COUNT(*) FROM {t.name} WHERE {c.name} IS NULL").fetchone()[0]
                    assert (nulls > 0) == c.nullable or (c.nullable and nulls == 0 and n < 50), (t.name, c.name)
        finally:
            conn.close()


def test_josa() -> None:
    assert josa("서울", "이") == "서울이" and josa("부산", "을") == "부산을"
    assert josa("가격", "은") == "가격은" and josa("나이", "은") == "나이는"
    assert josa("'gmail.com'", "으로") == "'gmail.com'으로" and josa("'서울'", "으로") == "'서울'로"
    assert josa("이메일(email)", "이") == "이메일(email)이" and josa("player_id", "을") == "player_id를"
    assert josa("3", "이") == "3이" and josa("2", "이") == "2가"


def test_conj() -> None:
    assert conj("도시가 '서울'인", "and") == "도시가 '서울'이고"
    assert conj("이메일이 'a'로 끝나는", "or") == "이메일이 'a'로 끝나거나"
    assert conj("정지된", "and") == "정지되고" and conj("대표 메뉴가 아닌", "and") == "대표 메뉴가 아니고"
    assert conj("읽지 않은", "or") == "읽지 않거나"
