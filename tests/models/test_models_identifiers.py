"""Generated SQL whose Korean or mixed-case names the model left bare is repaired against the row's
schema, and only when that makes it compile."""

from __future__ import annotations

from kosql.data.rows import Example
from kosql.models.identifiers import repair_rows_identifiers, repair_sql

DDL = 'CREATE TABLE "선수 명단" ("선수 이름" TEXT, "출신 학교/팀" TEXT, "등번호" INTEGER);'


def test_bare_korean_names_are_quoted_when_that_makes_the_query_compile() -> None:
    fixed = repair_sql("SELECT 선수 이름 FROM 선수 명단 WHERE 출신 학교/팀 = '한빛고'", DDL)
    assert fixed == 'SELECT "선수 이름" FROM "선수 명단" WHERE "출신 학교/팀" = \'한빛고\''


def test_a_query_that_compiles_is_left_alone() -> None:
    assert repair_sql('SELECT "등번호" FROM "선수 명단"', DDL) is None
    assert repair_sql("SELECT nope FROM nowhere", DDL) is None  # repair cannot fix it: unchanged


def test_rows_keep_the_models_sql() -> None:
    rows = [{"id": "a", "pred": "SELECT 등번호 FROM 선수 명단"}, {"id": "b", "pred": "", "status": "failed"}]
    examples = [Example(id=i, db_id="d", context=DDL, question="q", answer="") for i in ("a", "b")]
    assert repair_rows_identifiers(rows, examples) == 1
    assert rows[0]["pred"] == 'SELECT "등번호" FROM "선수 명단"' and rows[0]["unrepaired"] == "SELECT 등번호 FROM 선수 명단"
