"""Table selection under a token budget (pure) and DDL rendering with comments."""

from __future__ import annotations

from kosql.ask.schema import render_ddl
from kosql.ask.select import estimate_tokens, ngrams, select_tables
from kosql.data.schema import parse_schema

DDL = """
CREATE TABLE customers (customer_id INT PRIMARY KEY COMMENT '고객 ID', name VARCHAR(50) COMMENT '고객 이름',
  joined_at DATE COMMENT '가입일') COMMENT='고객';
CREATE TABLE orders (order_id INT PRIMARY KEY COMMENT '주문 ID', customer_id INT COMMENT '고객 ID',
  total INT COMMENT '주문 금액', FOREIGN KEY (customer_id) REFERENCES customers(customer_id)) COMMENT='주문';
CREATE TABLE riders (rider_id INT PRIMARY KEY COMMENT '배달원 ID', vehicle VARCHAR(20) COMMENT '이동 수단') COMMENT='배달원';
CREATE TABLE rooms (room_id INT PRIMARY KEY COMMENT '객실 ID', floor INT COMMENT '층') COMMENT='객실';
"""


def test_ngrams_match_korean_words_without_a_tokenizer() -> None:
    assert {"고객", "가입"} <= ngrams("지난달 가입한 고객 수는?")


def test_selection_keeps_matching_tables_and_fk_neighbours_under_the_budget() -> None:
    schema = parse_schema(DDL)

    def render(names: list[str]) -> str:
        return render_ddl(schema, names)

    whole = select_tables(schema, "고객 수", render, budget=10_000)
    assert whole.all_tables and whole.tables == list(schema.tables)
    budget = estimate_tokens(render(["customers", "orders"])) + 5
    sel = select_tables(schema, "고객별 주문 금액 합계", render, budget=budget)
    assert sel.tables == ["customers", "orders"] and sel.tokens <= budget and not sel.all_tables
    riders = select_tables(schema, "이동 수단이 오토바이인 배달원", render, budget=budget)
    assert riders.tables[0] == "riders" and "rooms" not in riders.tables


def test_render_ddl_writes_comments_like_the_training_data() -> None:
    text = render_ddl(parse_schema(DDL), ["orders"])
    assert text.startswith("CREATE TABLE orders (\n  order_id INT PRIMARY KEY COMMENT '주문 ID',")
    assert "FOREIGN KEY (customer_id) REFERENCES customers(customer_id)" in text
    assert text.endswith(") COMMENT='주문';")
