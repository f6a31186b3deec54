"""Database synthesis from DDL alone: typed rows, keys, NULLs, literal seeding, determinism."""

from __future__ import annotations

import re
import sqlite3

import pytest

from kosql.data.schema import parse_schema, transpile_to_sqlite
from kosql.db.build import build_database, extract_literals, generate_rows
from kosql.db.literals import like_examples

DDL = """CREATE TABLE players (player_id INT PRIMARY KEY AUTO_INCREMENT, username VARCHAR(255) UNIQUE NOT NULL,
  email VARCHAR(255) UNIQUE NOT NULL, password_hash VARCHAR(255) NOT NULL, date_joined DATETIME NOT NULL,
  last_login DATETIME, nickname VARCHAR(50), city VARCHAR(50));
CREATE TABLE games (game_id INT PRIMARY KEY AUTO_INCREMENT, player_id INT NOT NULL, score INT,
  rating DECIMAL(3, 1), played_on DATE, mode ENUM('solo', 'team', 'ranked') NOT NULL, is_win BOOLEAN,
  FOREIGN KEY (player_id) REFERENCES players(player_id));
CREATE TABLE game_tags (game_id INT REFERENCES games(game_id), tag VARCHAR(20), PRIMARY KEY (game_id, tag));"""
SCHEMA = parse_schema(DDL)
SEEDS = range(8)


def _all(conn: sqlite3.Connection, sql: str) -> list[tuple]:
    return conn.execute(sql).fetchall()


def test_deterministic_per_seed_and_different_across_seeds() -> None:
    assert generate_rows(SCHEMA, seed=3) == generate_rows(SCHEMA, seed=3)
    assert generate_rows(SCHEMA, seed=3) != generate_rows(SCHEMA, seed=4)


@pytest.mark.parametrize("seed", SEEDS)
def test_keys_and_types(seed: int) -> None:
    conn = build_database(SCHEMA, seed=seed)
    n_players = _all(conn, "SELECT COUNT(*) FROM players")[0][0]
    assert n_players >= 4
    for col in ("player_id", "username", "email"):
        assert _all(conn, f"SELECT COUNT(DISTINCT {col}) FROM players")[0][0] == n_players
    assert _all(conn, "SELECT COUNT(*) FROM players WHERE username IS NULL OR email IS NULL "
                      "OR password_hash IS NULL OR date_joined IS NULL")[0][0] == 0
    assert _all(conn, "SELECT COUNT(*) FROM games WHERE player_id NOT IN (SELECT player_id FROM players)")[0][0] == 0
    assert _all(conn, "SELECT COUNT(*) FROM game_tags WHERE game_id NOT IN (SELECT game_id FROM games)")[0][0] == 0
    assert {r[0] for r in _all(conn, "SELECT DISTINCT mode FROM games")} <= {"solo", "team", "ranked"}
    assert {r[0] for r in _all(conn, "SELECT is_win FROM games WHERE is_win IS NOT NULL")} <= {0, 1}
    for (value,) in _all(conn, "SELECT date_joined FROM players"):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", value)
    for (value,) in _all(conn, "SELECT played_on FROM games WHERE played_on IS NOT NULL"):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
    for (value,) in _all(conn, "SELECT email FROM players"):
        assert re.fullmatch(r"[a-z]+\d+@[a-z.]+", value)
    types = {r[0] for r in _all(conn, "SELECT typeof(score) FROM games WHERE score IS NOT NULL")}
    assert types == {"integer"}
    assert _all(conn, "SELECT COUNT(*) FROM (SELECT game_id, tag FROM game_tags GROUP BY 1, 2 HAVING COUNT(*) > 1)")[0][0] == 0


def test_variety_across_the_k_databases() -> None:
    years: set[str] = set()
    nulls = 0
    korean = False
    sizes = set()
    for seed in SEEDS:
        conn = build_database(SCHEMA, seed=seed)
        years |= {r[0][:4] for r in _all(conn, "SELECT date_joined FROM players")}
        nulls += _all(conn, "SELECT COUNT(*) FROM players WHERE last_login IS NULL OR nickname IS NULL")[0][0]
        korean = korean or any(re.search("[가-힣]", str(r[0])) for r in _all(conn, "SELECT city FROM players"))
        sizes.add(_all(conn, "SELECT COUNT(*) FROM players")[0][0])
    assert len(years) >= 3 and nulls > 0 and korean and len(sizes) >= 4


def test_duplicates_exist_in_non_unique_columns() -> None:
    conn = build_database(SCHEMA, seed=1)
    n, distinct = _all(conn, "SELECT COUNT(city), COUNT(DISTINCT city) FROM players")[0]
    assert distinct < n


def test_like_examples_match_the_pattern() -> None:
    conn = sqlite3.connect(":memory:")
    for pattern in ("%gmail.com", "kim%", "%서울%", "a_c", "100\\%"):
        for value in like_examples(pattern):
            assert conn.execute("SELECT ? LIKE ? ESCAPE '\\'", (value, pattern)).fetchone()[0] == 1, (pattern, value)


@pytest.mark.parametrize("sql, expected", [
    ("SELECT COUNT(*) FROM players WHERE email LIKE '%gmail.com'", {("players", "email")}),
    ("SELECT * FROM players p JOIN games g ON p.player_id = g.player_id WHERE g.score > 50 AND p.city = '서울'",
     {("games", "score"), ("players", "city")}),
    ("SELECT * FROM games WHERE mode IN ('solo', 'team') AND rating BETWEEN 2.5 AND 4",
     {("games", "mode"), ("games", "rating")}),
    ("SELECT username FROM players WHERE YEAR(date_joined) = 2023", {("players", "date_joined")}),
    ("SELECT COUNT(*) FROM players, games WHERE players.player_id = games.player_id AND score >= 10",
     {("games", "score")}),
    ("SELECT 1 FROM games WHERE 100 < score", {("games", "score")}),
])
def test_extract_literals_columns(sql: str, expected: set[tuple[str, str]]) -> None:
    assert set(extract_literals(sql, SCHEMA)) == expected


def test_extract_literal_values() -> None:
    lits = extract_literals("SELECT * FROM games WHERE score > 50 AND rating <= 3.5 AND mode IN ('solo', 'team') "
                            "AND played_on BETWEEN '2023-01-01' AND '2023-06-30'", SCHEMA)
    assert lits[("games", "score")] == [51, 50, 49]
    assert lits[("games", "rating")][:2] == [3.5, 3.0]
    assert lits[("games", "mode")] == ["solo", "team"]
    assert lits[("games", "played_on")][:4] == ["2023-01-01", "2023-06-30", "2022-12-31", "2023-07-01"]
    years = extract_literals("SELECT * FROM players WHERE YEAR(date_joined) = 2021", SCHEMA)
    assert all(v.startswith("2021-") for v in years[("players", "date_joined")][:2])


@pytest.mark.parametrize("sql", [
    "SELECT COUNT(*) FROM players WHERE email LIKE '%gmail.com'",
    "SELECT username FROM players WHERE username = 'archer'",
    "SELECT p.username FROM players p JOIN games g ON p.player_id = g.player_id "
    "WHERE g.score > 500 AND g.mode = 'ranked' AND p.city = '제주'",
    "SELECT * FROM games WHERE rating BETWEEN 4.1 AND 4.3",
    "SELECT * FROM players WHERE YEAR(date_joined) = 2020 AND MONTH(date_joined) = 2",
    "SELECT * FROM game_tags WHERE tag IN ('pvp', 'event')",
    "SELECT * FROM players WHERE nickname = 'zed' AND city = '부산'",
    "SELECT * FROM players WHERE last_login >= NOW() - INTERVAL 7 DAY",
    "SELECT * FROM games WHERE played_on < CURDATE() - INTERVAL 3 YEAR",
    "SELECT * FROM players WHERE nickname IS NULL AND city = '서울'",
    "SELECT * FROM games WHERE strftime('%Y-%m', played_on) = '2022-07'",
    "SELECT * FROM players WHERE DATE_FORMAT(date_joined, '%Y') = '2021'",
    "SELECT city FROM players GROUP BY city HAVING COUNT(*) >= 40",
    "SELECT p.city FROM players p JOIN games g ON p.player_id = g.player_id GROUP BY p.city HAVING COUNT(*) > 12",
])
def test_literal_seeding_makes_where_hit_on_every_database(sql: str) -> None:
    lits = extract_literals(sql, SCHEMA)
    target = transpile_to_sqlite(sql)
    for seed in SEEDS:
        conn = build_database(SCHEMA, seed=seed, literals=lits)
        if sql.startswith("SELECT COUNT(*)"):
            assert _all(conn, target)[0][0] > 0, seed
        else:
            assert _all(conn, target), seed
        # and the filter still removes rows (the literal is not planted everywhere)
        total = _all(conn, "SELECT COUNT(*) FROM players")[0][0]
        assert _all(conn, "SELECT COUNT(*) FROM players WHERE email LIKE '%gmail.com'")[0][0] < total or "gmail" not in sql
