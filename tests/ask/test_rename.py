"""Mapping SQL written against a merged schema back to a row's own table names (pure)."""

from __future__ import annotations

import sqlite3

from kosql.ask.rename import NOT_IN_MERGED, merged_to_own, rename_tables

# 'orders' exists in two domains, so the merged schema prefixes it; 'riders' and 'books' are unique.
RENAME = {("delivery", "orders"): "delivery_orders", ("delivery", "riders"): "riders",
          ("shop", "orders"): "shop_orders", ("library", "books"): "books"}


def _db() -> sqlite3.Connection:
    con = sqlite3.connect(":memory:")
    con.executescript("CREATE TABLE orders (order_id INT, rider_id INT, total INT);"
                      "CREATE TABLE riders (rider_id INT, name TEXT);"
                      "INSERT INTO orders VALUES (1, 1, 100); INSERT INTO riders VALUES (1, '김');")
    return con


def test_merged_names_of_the_own_domain_map_back_and_the_sql_runs_on_the_own_database() -> None:
    own = merged_to_own(RENAME, "delivery")
    assert own["delivery_orders"] == "orders" and own["riders"] == "riders"
    sql = ("SELECT delivery_orders.total, r.name FROM delivery_orders JOIN riders AS r "
           "ON delivery_orders.rider_id = r.rider_id")
    out = rename_tables(sql, own)
    assert "delivery_orders" not in out
    assert _db().execute(out).fetchall() == [(100, "김")]


def test_a_table_the_prompt_did_not_show_stays_unknown() -> None:
    own = merged_to_own(RENAME, "delivery")
    other = rename_tables("SELECT COUNT(*) FROM shop_orders", own)  # another domain's table
    assert "shop_orders" in other
    bare = rename_tables("SELECT COUNT(*) FROM orders", own)  # the merged schema has no 'orders'
    assert f"orders{NOT_IN_MERGED}" in bare
    for sql in (other, bare):
        try:
            _db().execute(sql)
        except sqlite3.OperationalError as exc:
            assert "no such table" in str(exc)
        else:
            raise AssertionError(f"{sql} ran on the own database")


def test_cte_names_aliases_and_unchanged_sql_are_kept() -> None:
    own = merged_to_own(RENAME, "delivery")
    sql = "WITH riders AS (SELECT 1 AS rider_id) SELECT rider_id FROM riders"
    assert rename_tables(sql, {"riders": "x"}) == sql  # only a CTE: nothing renamed, text untouched
    aliased = rename_tables("SELECT delivery_orders.total FROM delivery_orders AS delivery_orders", own)
    assert "FROM orders AS delivery_orders" in aliased and "delivery_orders.total" in aliased
    assert rename_tables("SELECT name FROM riders", own) == "SELECT name FROM riders"
    assert rename_tables("not sql at all (", own) == "not sql at all ("
