"""Tiny ko_text2sql-style and Spider-style fixtures built by the tests themselves."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

PLAYERS_DDL = (
    "CREATE TABLE players (\n"
    "  player_id INT PRIMARY KEY AUTO_INCREMENT,\n"
    "  username VARCHAR(255) UNIQUE NOT NULL,\n"
    "  email VARCHAR(255) UNIQUE NOT NULL,\n"
    "  password_hash VARCHAR(255) NOT NULL,\n"
    "  date_joined DATETIME NOT NULL,\n"
    "  last_login DATETIME\n"
    ");"
)
MESSAGES_DDL = (
    'CREATE TABLE messages (\n'
    '  "message_id" SERIAL PRIMARY KEY,\n'
    '  "conversation_id" INT NOT NULL,\n'
    '  "sender_id" INT NOT NULL,\n'
    '  "content" TEXT,\n'
    '  "timestamp" TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,\n'
    '  "read" BOOLEAN DEFAULT FALSE\n'
    ');'
)
SHOP_DDL = (
    "CREATE TABLE products (\n"
    "  product_id INT PRIMARY KEY AUTO_INCREMENT,\n"
    "  name VARCHAR(100) NOT NULL,\n"
    "  category ENUM('의류', '식품', '전자제품') NOT NULL,\n"
    "  price DECIMAL(10, 2) NOT NULL\n"
    ");\n"
    "CREATE TABLE orders (\n"
    "  order_id INT PRIMARY KEY AUTO_INCREMENT,\n"
    "  customer_id INT NOT NULL,\n"
    "  product_id INT NOT NULL,\n"
    "  quantity INT DEFAULT 1,\n"
    "  FOREIGN KEY (product_id) REFERENCES products(product_id)\n"
    ");"
)

GOOD_ROWS: list[tuple[str, str, str, str]] = [
    ("1", PLAYERS_DDL, "모든 플레이어 정보를 조회해 줘", "SELECT * FROM players;"),
    ("1", PLAYERS_DDL, "모든 사용자의 아이디와 이메일을 보여줘", "SELECT player_id, email FROM players;"),
    ("1", PLAYERS_DDL, "이메일 주소가 'gmail.com'으로 끝나는 사용자 수를 알려줘",
     "SELECT COUNT(*) FROM players WHERE email LIKE '%gmail.com';"),
    ("1", PLAYERS_DDL, "이메일(email) 주소에 '@' 기호 앞부분만 조회해 줘.",
     "SELECT SUBSTRING_INDEX(email, '@', 1) FROM players;"),
    ("1", PLAYERS_DDL, "password_hash가 'abc123'인 사용자가 마지막으로 로그인한 시점을 알려줘",
     "SELECT last_login FROM players WHERE password_hash = 'abc123';"),
    ("2", MESSAGES_DDL, "messages 테이블에서 모든 데이터 조회해 줘", "SELECT * FROM messages;"),
    ("2", MESSAGES_DDL, "읽지 않은 메시지 수를 알려줘", 'SELECT COUNT(*) FROM messages WHERE "read" = FALSE;'),
    ("3", SHOP_DDL, "가장 비싼 상품 3개의 이름과 가격을 보여줘",
     "SELECT name, price FROM products ORDER BY price DESC LIMIT 3;"),
    ("3", SHOP_DDL, "카테고리별 평균 가격을 알려줘", "SELECT category, AVG(price) FROM products GROUP BY category;"),
    ("3", SHOP_DDL, "주문이 5건 이상인 고객 아이디를 알려줘",
     "SELECT customer_id FROM orders GROUP BY customer_id HAVING COUNT(*) >= 5;"),
    ("3", SHOP_DDL, "상품별 주문 수량 합계를 보여줘",
     "SELECT p.name, SUM(o.quantity) FROM products p JOIN orders o ON p.product_id = o.product_id GROUP BY p.name;"),
]

# (row, expected clean reason)
BAD_ROWS: list[tuple[tuple[str, str, str, str], str]] = [
    (("1", PLAYERS_DDL, "", "SELECT * FROM players;"), "empty"),
    (("1", PLAYERS_DDL, "모든 플레이어 정보를 조회해 줘", "SELECT * FROM players;"), "duplicate"),
    (("1", PLAYERS_DDL, "모든 플레이어 정보를 조회해 줘.", "select *\n  from PLAYERS"), "normalized_duplicate"),
    (("1", PLAYERS_DDL, "플레이어들의 닉네임을 보여줘", "SELECT nickname FROM players;"), "unknown_column"),
    (("1", PLAYERS_DDL, "친구 목록을 보여줘", "SELECT * FROM friends;"), "unknown_table"),
    (("1", PLAYERS_DDL, "가입일 순으로 정렬해줘", "SELEC username FORM players ORDER date_joined"), "sql_unparsable"),
    (("4", "CREATE TABLE (id INT PRIMARY KEY, oops", "모든 데이터를 보여줘", "SELECT * FROM things;"), "ddl_unparsable"),
]

COLUMNS = ["db_id", "context", "question", "answer"]


def write_csv(path: Path, rows: list[tuple[str, ...]], columns: list[str] | None = None) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns or COLUMNS)
        writer.writerows(rows)
    return path


def write_jsonl_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def good_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "ko_text2sql.csv", GOOD_ROWS)


@pytest.fixture
def bad_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "dirty.csv", GOOD_ROWS + [row for row, _ in BAD_ROWS])


SPIDER_TABLES = [
    {
        "db_id": "concert_singer",
        "table_names_original": ["singer", "concert", "singer_in_concert"],
        "table_names": ["singer", "concert", "singer in concert"],
        "column_names_original": [[-1, "*"], [0, "Singer_ID"], [0, "Name"], [0, "Country"], [0, "Age"],
                                  [1, "concert_ID"], [1, "concert_Name"], [1, "Year"],
                                  [2, "concert_ID"], [2, "Singer_ID"]],
        "column_names": [[-1, "*"], [0, "singer id"], [0, "name"], [0, "country"], [0, "age"],
                         [1, "concert id"], [1, "concert name"], [1, "year"],
                         [2, "concert id"], [2, "singer id"]],
        "column_types": ["text", "number", "text", "text", "number", "number", "text", "text", "number", "number"],
        "primary_keys": [1, 5, [8, 9]],
        "foreign_keys": [[9, 1], [8, 5]],
    },
    {
        "db_id": "pets_1",
        "table_names_original": ["Student", "Has_Pet"],
        "table_names": ["student", "has pet"],
        "column_names_original": [[-1, "*"], [0, "StuID"], [0, "LName"], [0, "Age"], [1, "StuID"], [1, "PetID"]],
        "column_names": [[-1, "*"], [0, "stuid"], [0, "last name"], [0, "age"], [1, "stuid"], [1, "pet id"]],
        "column_types": ["text", "number", "text", "number", "number", "number"],
        "primary_keys": [1],
        "foreign_keys": [[4, 1]],
    },
]
SPIDER_DEV = [
    {"db_id": "concert_singer", "question": "How many singers do we have?", "query": "SELECT count(*) FROM singer",
     "query_toks": ["SELECT"], "question_toks": ["How"], "sql": {"select": []}},
    {"db_id": "concert_singer", "question": "가수들의 이름과 나이를 나이 순으로 보여줘",
     "query": "SELECT Name, Age FROM singer ORDER BY Age"},
    {"db_id": "concert_singer", "question": "What are the names of singers from France?",
     "query": 'SELECT name FROM singer WHERE country = "France"'},
    {"db_id": "concert_singer", "question": "Show concert names with their singer count.",
     "query": "SELECT T1.concert_Name, count(*) FROM concert AS T1 JOIN singer_in_concert AS T2 "
              "ON T1.concert_ID = T2.concert_ID GROUP BY T1.concert_ID"},
    {"db_id": "pets_1", "question": "How many students have a pet?",
     "query": "SELECT count(DISTINCT StuID) FROM Has_Pet"},
    {"db_id": "pets_1", "question": "나이가 20살보다 많은 학생 수는?", "query": "SELECT count(*) FROM Student WHERE Age > 20"},
]


@pytest.fixture
def spider_dir(tmp_path: Path) -> Path:
    root = tmp_path / "spider"
    (root / "database" / "concert_singer").mkdir(parents=True)
    (root / "tables.json").write_text(json.dumps(SPIDER_TABLES, ensure_ascii=False), encoding="utf-8")
    (root / "dev.json").write_text(json.dumps(SPIDER_DEV, ensure_ascii=False), encoding="utf-8")
    con = sqlite3.connect(root / "database" / "concert_singer" / "concert_singer.sqlite")
    con.executescript(
        "CREATE TABLE singer (Singer_ID int PRIMARY KEY, Name text, Country text, Age int);"
        "CREATE TABLE concert (concert_ID int PRIMARY KEY, concert_Name text, Year text);"
        "CREATE TABLE singer_in_concert (concert_ID int, Singer_ID int, PRIMARY KEY (concert_ID, Singer_ID));"
        "INSERT INTO singer VALUES (1, 'Joe', 'France', 30), (2, 'Ann', 'Korea', 25);"
    )
    con.commit()
    con.close()
    return root


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``kosql ARGS`` in-process; returns (exit code, stdout, stderr)."""
    from kosql.cli.main import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def assert_one_sentence(err: str, *must_contain: str) -> str:
    """``err`` is exactly one ``Error: ...`` line ending with a period, naming ``must_contain``."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("Error: ") and line.endswith("."), line
    assert "Traceback" not in err
    for text in must_contain:
        assert text in line, (text, line)
    return line


@pytest.fixture
def kit() -> SimpleNamespace:
    """The fixture data and helpers of this folder (conftest is not importable by name)."""
    return SimpleNamespace(
        GOOD_ROWS=GOOD_ROWS, BAD_ROWS=BAD_ROWS, PLAYERS_DDL=PLAYERS_DDL, MESSAGES_DDL=MESSAGES_DDL,
        SHOP_DDL=SHOP_DDL, SPIDER_TABLES=SPIDER_TABLES, SPIDER_DEV=SPIDER_DEV, COLUMNS=COLUMNS,
        write_csv=write_csv, write_jsonl_rows=write_jsonl_rows, assert_one_sentence=assert_one_sentence,
        dicts=lambda rows: [dict(zip(COLUMNS, r, strict=True)) for r in rows],
    )
