"""testsuite_check: gold vs gold, hand-built wrong predictions, statuses, timeouts."""

from __future__ import annotations

import time

import pytest

from kosql.data.rows import Example
from kosql.evaluate.testsuite import STATUSES, TestSuiteResult, clear_caches, testsuite_check

PLAYERS = ("CREATE TABLE players (player_id INT PRIMARY KEY AUTO_INCREMENT, username VARCHAR(255) UNIQUE "
           "NOT NULL, email VARCHAR(255) UNIQUE NOT NULL, password_hash VARCHAR(255) NOT NULL, date_joined "
           "DATETIME NOT NULL, last_login DATETIME);")
SHOP = """CREATE TABLE customers (customer_id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100) NOT NULL,
  city VARCHAR(50), grade ENUM('bronze','silver','gold') DEFAULT 'bronze', joined_at DATE);
CREATE TABLE orders (order_id INT PRIMARY KEY AUTO_INCREMENT, customer_id INT NOT NULL, amount DECIMAL(10,2),
  status VARCHAR(20), ordered_at DATETIME, FOREIGN KEY (customer_id) REFERENCES customers(customer_id));"""
MESSAGES = """CREATE TABLE messages {
    "message_id" SERIAL PRIMARY KEY,
    "conversation_id" INT NOT NULL,
    "sender_id" INT NOT NULL,
    "content" TEXT,
    "timestamp" TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    "read" BOOLEAN DEFAULT FALSE,
    FOREIGN KEY ("conversation_id") REFERENCES conversations("conversation_id"),
    FOREIGN KEY ("sender_id") REFERENCES users("user_id")
};"""


def ex(context: str, answer: str) -> Example:
    return Example(id="r", db_id="1", context=context, question="질문", answer=answer)


GOLDS = [
    (PLAYERS, "SELECT * FROM players;"),
    (PLAYERS, "SELECT player_id, email FROM players;"),
    (PLAYERS, "SELECT username FROM players WHERE username LIKE 'archer' ORDER BY date_joined DESC;"),
    (PLAYERS, "SELECT last_login FROM players WHERE password_hash = 'abc123';"),
    (PLAYERS, "SELECT COUNT(*) FROM players WHERE email LIKE '%gmail.com';"),
    (PLAYERS, "SELECT SUBSTRING_INDEX(email, '@', 1) FROM players;"),
    (PLAYERS, "SELECT DATE_FORMAT(date_joined, '%Y-%m') AS m, COUNT(*) FROM players GROUP BY m;"),
    (PLAYERS, "SELECT username FROM players WHERE last_login >= NOW() - INTERVAL 30 DAY;"),
    (SHOP, "SELECT c.name, SUM(o.amount) FROM customers c JOIN orders o ON c.customer_id = o.customer_id "
           "WHERE c.city = '서울' GROUP BY c.name ORDER BY SUM(o.amount) DESC LIMIT 3;"),
    (SHOP, "SELECT grade, COUNT(*) FROM customers GROUP BY grade HAVING COUNT(*) >= 1;"),
    (SHOP, "SELECT name FROM customers WHERE customer_id IN (SELECT customer_id FROM orders WHERE status = 'paid');"),
    (SHOP, "SELECT name FROM customers WHERE YEAR(joined_at) = 2022;"),
    (SHOP, "SELECT city, COUNT(*) FROM customers GROUP BY city HAVING COUNT(*) > 40;"),
    (SHOP, "SELECT customer_id FROM orders WHERE DATE_FORMAT(ordered_at, '%Y-%m') = '2024-02';"),
    (MESSAGES, 'SELECT * FROM messages WHERE "read" = FALSE;'),
    (MESSAGES, "SELECT sender_id, COUNT(*) FROM messages GROUP BY sender_id;"),
]


@pytest.mark.parametrize("context, gold", GOLDS, ids=[g[:45] for _, g in GOLDS])
def test_gold_vs_gold_matches_on_all_k(context: str, gold: str) -> None:
    res = testsuite_check(ex(context, gold), gold, k=8)
    assert res.status == "match", res.detail
    assert res.n_db == 8 and res.correct and res.category == "correct"


@pytest.mark.parametrize("context, gold", [g for g in GOLDS if " WHERE " in g[1]])
def test_where_literal_queries_are_non_empty(context: str, gold: str) -> None:
    res = testsuite_check(ex(context, gold), gold, k=8)
    assert res.n_gold_nonempty == 8, gold


WRONG = [
    # (context, gold, wrong prediction, what is wrong)
    (PLAYERS, "SELECT COUNT(*) FROM players WHERE email LIKE '%gmail.com'",
     "SELECT COUNT(*) FROM players WHERE email LIKE '%naver.com'", "wrong literal"),
    (PLAYERS, "SELECT username FROM players WHERE password_hash = 'abc123'",
     "SELECT username FROM players", "missing WHERE"),
    (SHOP, "SELECT MAX(amount) FROM orders", "SELECT MIN(amount) FROM orders", "wrong aggregate"),
    (SHOP, "SELECT AVG(amount) FROM orders WHERE status = 'paid'",
     "SELECT SUM(amount) FROM orders WHERE status = 'paid'", "wrong aggregate"),
    (SHOP, "SELECT name FROM customers WHERE city = '부산'",
     "SELECT city FROM customers WHERE city = '부산'", "wrong column"),
    (SHOP, "SELECT DISTINCT grade FROM customers", "SELECT grade FROM customers", "missing DISTINCT"),
    (SHOP, "SELECT order_id FROM orders ORDER BY amount DESC LIMIT 1",
     "SELECT order_id FROM orders ORDER BY amount ASC LIMIT 1", "wrong ORDER direction with LIMIT"),
    (PLAYERS, "SELECT username FROM players ORDER BY date_joined DESC LIMIT 3",
     "SELECT username FROM players ORDER BY date_joined LIMIT 3", "wrong ORDER direction with LIMIT"),
    (SHOP, "SELECT COUNT(*) FROM orders WHERE amount > 100",
     "SELECT COUNT(*) FROM orders WHERE amount >= 100", "> vs >="),
    (SHOP, "SELECT c.name FROM customers c JOIN orders o ON c.customer_id = o.customer_id WHERE o.status = 'paid' "
           "AND c.grade = 'gold'",
     "SELECT c.name FROM customers c JOIN orders o ON c.customer_id = o.customer_id WHERE o.status = 'paid'",
     "dropped one of two conditions"),
    (SHOP, "SELECT name FROM customers WHERE YEAR(joined_at) = 2022",
     "SELECT name FROM customers WHERE YEAR(joined_at) = 2023", "wrong year"),
    (PLAYERS, "SELECT username FROM players ORDER BY player_id",
     "SELECT username FROM players ORDER BY player_id DESC", "wrong order (ORDER BY compared in order)"),
    (SHOP, "SELECT city FROM customers GROUP BY city HAVING COUNT(*) >= 30",
     "SELECT city FROM customers GROUP BY city HAVING COUNT(*) >= 3", "wrong HAVING threshold"),
    (SHOP, "SELECT status FROM orders WHERE strftime('%Y-%m', ordered_at) = '2023-07'",
     "SELECT status FROM orders WHERE strftime('%Y-%m', ordered_at) = '2023-08'", "wrong month"),
]


@pytest.mark.parametrize("context, gold, pred, why", WRONG, ids=[w[3] for w in WRONG])
def test_wrong_predictions_are_caught(context: str, gold: str, pred: str, why: str) -> None:
    res = testsuite_check(ex(context, gold), pred, k=8)
    assert res.status == "mismatch", why
    assert not res.correct and res.category == "wrong_result"


@pytest.mark.parametrize("context, gold, pred", [
    (PLAYERS, "SELECT COUNT(*) FROM players WHERE email LIKE '%gmail.com'",
     "select count(email) from players where email like '%gmail.com'"),
    (PLAYERS, "SELECT player_id, email FROM players", "SELECT email, player_id FROM players p"),
    (PLAYERS, "SELECT IFNULL(last_login, '-') FROM players", "SELECT COALESCE(last_login, '-') FROM players"),
    (PLAYERS, "SELECT username FROM players WHERE username ILIKE 'ARCHER%'",
     "SELECT username FROM players WHERE LOWER(username) LIKE 'archer%'"),
    (SHOP, "SELECT c.name FROM customers c JOIN orders o ON c.customer_id = o.customer_id WHERE o.amount > 500",
     "SELECT customers.name FROM orders, customers WHERE orders.customer_id = customers.customer_id AND 500 < orders.amount"),
])
def test_equivalent_predictions_match(context: str, gold: str, pred: str) -> None:
    res = testsuite_check(ex(context, gold), pred)
    assert res.status == "match", res.detail


def test_statuses() -> None:
    gold = "SELECT COUNT(*) FROM players WHERE email LIKE '%gmail.com'"
    cases: list[tuple[Example, str, str, str | None]] = [
        (ex("CREATE TABLE players (id INT,, XYZ))", gold), gold, "schema_error", None),
        (ex("", gold), gold, "schema_error", None),
        (ex(PLAYERS, "SELEC * FRM players WHERE"), gold, "gold_untranspilable", None),
        (ex(PLAYERS, "SELECT nickname FROM players"), gold, "gold_error", None),
        (ex(PLAYERS, gold), "SELECT nickname FROM players", "pred_error", "unknown_column"),
        (ex(PLAYERS, gold), "SELECT * FROM gamers", "pred_error", "unknown_table"),
        (ex(PLAYERS, gold), "DROP TABLE players", "pred_error", "forbidden"),
        (ex(PLAYERS, gold), "SELEC * FRM players WHERE", "pred_untranspilable", "syntax"),
        (ex(PLAYERS, gold), "   ", "pred_untranspilable", "syntax"),
    ]
    for example, pred, status, kind in cases:
        res = testsuite_check(example, pred, k=4)
        assert res.status == status, (pred, res)
        assert res.status in STATUSES and res.detail
        if kind is not None:
            assert res.error_kind == kind, res
        if status.startswith("gold") or status == "schema_error":
            assert res.category == "gold_error"
    res = testsuite_check(ex(PLAYERS, gold), "DELETE FROM players", k=2)
    assert res.category == "forbidden"
    # the prediction above did not change the cached databases
    assert testsuite_check(ex(PLAYERS, gold), gold).status == "match"


def test_runaway_prediction_times_out() -> None:
    gold = "SELECT COUNT(*) FROM players"
    runaway = ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
               "SELECT COUNT(*) FROM r")
    start = time.monotonic()
    res = testsuite_check(ex(PLAYERS, gold), runaway, k=8, timeout=0.3)
    assert res.status == "pred_error" and res.error_kind == "timeout" and res.category == "timeout"
    # the first timeout ends the check: the prediction ran on database 0 only, not on all 8
    assert "on database 0:" in res.detail, res.detail
    assert time.monotonic() - start < 30  # generous: a busy machine, the databases built on first use


def test_k_and_seed_change_the_databases() -> None:
    gold = "SELECT COUNT(*) FROM players"
    one = testsuite_check(ex(PLAYERS, gold), "SELECT 12", k=1, seed=0)
    assert one.status == "match"  # database 0 happens to hold 12 players ...
    assert testsuite_check(ex(PLAYERS, gold), "SELECT 12", k=8).status == "mismatch"  # ... not all 8 do


def test_cache_gives_same_answers_after_clear() -> None:
    gold = "SELECT username FROM players WHERE last_login > '2024-01-01'"
    before = testsuite_check(ex(PLAYERS, gold), gold)
    clear_caches()
    after = testsuite_check(ex(PLAYERS, gold), gold)
    assert before == after and isinstance(after, TestSuiteResult)
