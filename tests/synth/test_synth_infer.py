"""Role, join and Korean-name inference of the schema-agnostic generator (kosql.data.synth.infer)."""

from __future__ import annotations

import sqlite3

from kosql.data.schema import parse_schema
from kosql.data.synth.infer import build_view, infer_joins, korean_of
from kosql.data.synth.naming import korean_name, split_words, style_ident

DDL = """
CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT, city TEXT);
CREATE TABLE players (
  player_id INTEGER,
  team_id INTEGER,
  full_name TEXT,
  position TEXT,
  jersey TEXT,
  height TEXT,
  birth_date TEXT,
  is_captain INTEGER,
  salary REAL,
  bio TEXT
);
CREATE TABLE awards (awardId INTEGER PRIMARY KEY, playerId INTEGER, title TEXT, year INTEGER);
"""


def _rows() -> dict[str, list[tuple[object, ...]]]:
    teams = [(i, f"팀{i}", ["서울", "부산", "대구"][i % 3]) for i in range(1, 6)]
    players = []
    for i in range(1, 31):
        players.append((i, 1 + i % 5, f"선수{i}", ["가드", "포워드", "센터"][i % 3], f"{10 + i}",
                        str(150 + i) if i % 4 else str(90 + i), f"19{80 + i % 20}-0{1 + i % 9}-1{i % 10}",
                        1 if i % 10 == 0 else 0, 1000.5 * i, f"긴 소개 글 {i} " * 3))
    awards = [(i, 1 + (i * 7) % 30, ["MVP", "신인상", "득점왕"][i % 3], 2010 + i % 10) for i in range(1, 21)]
    return {"teams": teams, "players": players, "awards": awards}


def test_roles_from_types_names_keys_and_values() -> None:
    view = build_view(parse_schema(DDL), _rows())
    role = {k: v.role for k, v in view.info.items()}
    assert role[("teams", "id")] == "pk"  # declared
    assert role[("players", "player_id")] == "pk"  # <table>_id with unique values, no declared key
    assert role[("players", "team_id")] == "fk"  # inferred: <singular>_id -> teams.id
    assert role[("awards", "playerId")] == "fk"  # inferred: camelCase <singular>Id -> players.player_id
    assert role[("players", "full_name")] == "label"
    assert role[("teams", "name")] == "label"
    assert role[("players", "position")] == "cat"
    assert role[("players", "jersey")] == "num" and view.info[("players", "jersey")].textnum  # '11'..'40'
    assert role[("players", "height")] == "text"  # numbers as TEXT of different widths: no < or >
    assert role[("players", "birth_date")] == "date"  # ISO dates stored as TEXT
    assert role[("players", "is_captain")] == "bool"
    assert role[("players", "salary")] == "num"
    assert role[("players", "bio")] == "text"
    joins = {(j.child, j.column, j.parent, j.parent_column, j.declared) for j in view.joins}
    assert joins == {("players", "team_id", "teams", "id", False), ("awards", "playerId", "players", "player_id", False)}


def test_a_key_whose_values_are_not_the_parents_is_not_a_join() -> None:
    rows = _rows()
    rows["players"] = [r[:1] + (900 + r[0],) + r[2:] for r in rows["players"]]  # team_id values not in teams
    schema = parse_schema(DDL)
    pks = {"teams": "id", "players": "player_id", "awards": "awardId"}
    assert all(j.column != "team_id" for j in infer_joins(schema, pks, rows))


def test_declared_foreign_keys_are_joins_and_numbers_as_text_become_numbers() -> None:
    ddl = ('CREATE TABLE "팀" ("팀 번호" INTEGER PRIMARY KEY, "팀명" TEXT);'
           'CREATE TABLE "선수" ("이름" TEXT, "소속" INTEGER REFERENCES "팀"("팀 번호"), "등번호" TEXT)')
    rows = {"팀": [(1, "가"), (2, "나")], "선수": [("김", 1, "07"), ("이", 2, "11"), ("박", 1, "23")]}
    view = build_view(parse_schema(ddl), rows)
    assert [(j.child, j.column, j.declared) for j in view.joins] == [("선수", "소속", True)]
    table = next(t for t in view.domain.tables if t.name == '"선수"')
    assert [c.name for c in table.columns] == ['"이름"', '"소속"', '"등번호"']  # SQL spellings, quoted
    assert view.rows['"선수"'][0] == ("김", 1, 7)  # '07' -> 7 for comparisons and aggregates


def test_korean_names_comment_then_glossary_then_korean_identifier_then_fallback() -> None:
    names = {"players.position": "포지션", "salary": "연봉", "teams": "구단"}
    assert korean_of(names, "players", "position", "선수 위치") == "선수 위치"  # the comment wins
    assert korean_of(names, "players", "position", None) == "포지션"
    assert korean_of(names, "players", "salary", None) == "연봉"  # a bare column key
    assert korean_of(names, "teams", None, None) == "구단"
    assert korean_of({}, "선수 명단", "출신 학교/팀", None) == "출신 학교/팀"
    assert korean_of({}, "orders", "order_date", None) == "주문일"
    assert korean_of({}, "orders", None, None) == "주문"
    assert korean_of({}, "t", "xq_zz", None) == "xq zz"  # unknown words stay readable


def test_comments_of_a_live_schema_name_the_columns_in_questions() -> None:
    ddl = "CREATE TABLE emp (id INT PRIMARY KEY, nm VARCHAR(20) COMMENT '사원명', dept VARCHAR(10) COMMENT '부서') COMMENT='사원';"
    rows = {"emp": [(i, f"사원{i}", ["영업", "개발"][i % 2]) for i in range(1, 9)]}
    view = build_view(parse_schema(ddl), rows)
    table = view.domain.tables[0]
    assert table.ko == "사원"
    assert {c.name: c.ko for c in table.columns if not c.pk} == {"nm": "사원명", "dept": "부서"}


def test_split_words_and_styles() -> None:
    for name in ("order_date", "orderDate", "OrderDate", "ORDER_DATE"):
        assert split_words(name) == ["order", "date"]
    assert split_words("HTTPStatus") == ["http", "status"] and split_words("출신 학교/팀") == ["출신 학교/팀"]
    words = ["unit", "price"]
    assert [style_ident(words, s) for s in ("snake", "camel", "pascal", "upper", "abbrev")] == \
        ["unit_price", "unitPrice", "UnitPrice", "UNIT_PRICE", "unit_prc"]
    assert korean_name("createdAt") == "생성일시" and korean_name("선수") == "선수"


def test_the_view_runs_on_sqlite_exactly_as_spelled() -> None:
    conn = sqlite3.connect(":memory:")
    conn.executescript(DDL)
    rows = _rows()
    for table, rs in rows.items():
        conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rs[0]))})", rs)
    view = build_view(parse_schema(DDL), rows)
    for table in view.domain.tables:
        cols = ", ".join(c.name for c in table.columns)
        assert len(conn.execute(f"SELECT {cols} FROM {table.name}").fetchall()) == len(rows[table.name])
