"""The data layer: load, schema, clean, split, stats and the bundled synthetic dataset."""

from kosql.data.rows import Example, read_jsonl, write_jsonl

__all__ = ["Example", "read_jsonl", "write_jsonl"]
