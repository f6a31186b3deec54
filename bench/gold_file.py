"""A ``kosql adapt --gold`` file from a ko_text2sql JSONL: the rows of one split and/or database,
each as ``question``, ``answer`` and its own ``context``.

    python bench/gold_file.py KOWIKISQL/ko_text2sql_format.jsonl --split dev > kw-dev.jsonl
    python bench/gold_file.py HANDWRITTEN/questions.jsonl --db-id music_stream > music.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", help="a ko_text2sql JSONL (question, answer, context, db_id[, split])")
    ap.add_argument("--split", default=None, help="only rows whose 'split' is this")
    ap.add_argument("--db-id", default=None, help="only rows whose 'db_id' is this")
    args = ap.parse_args(argv)
    n = 0
    with open(args.path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if args.split is not None and row.get("split") != args.split:
                continue
            if args.db_id is not None and row.get("db_id") != args.db_id:
                continue
            print(json.dumps({k: row[k] for k in ("question", "answer", "context")}, ensure_ascii=False))
            n += 1
    if n == 0:
        print(f"{args.path}: no rows match.", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
