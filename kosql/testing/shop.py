"""A small shop database (customers, products, orders with Korean values) for tests of the commands
that read a user's database (`kosql adapt`, `kosql data synth --db`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SHOP = """
CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT, joined_on TEXT);
CREATE TABLE products (product_id INTEGER PRIMARY KEY, title TEXT NOT NULL, category TEXT, price INTEGER);
CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(customer_id),
                     product_id INTEGER REFERENCES products(product_id), quantity INTEGER, ordered_on TEXT);
"""


def make_shop(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(SHOP)
    cities = ["서울", "부산", "대구", "광주"]
    cats = ["가전", "도서", "의류"]
    conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)",
                     [(i, f"고객{i}", cities[i % 4], f"2023-0{1 + i % 9}-1{i % 10}") for i in range(1, 41)])
    conn.executemany("INSERT INTO products VALUES (?, ?, ?, ?)",
                     [(i, f"상품{i}", cats[i % 3], 1000 * (i % 7 + 1)) for i in range(1, 21)])
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
                     [(i, 1 + i % 40, 1 + i % 20, 1 + i % 5, f"2024-0{1 + i % 9}-0{1 + i % 9}") for i in range(1, 121)])
    conn.commit()
    conn.close()
    return path
