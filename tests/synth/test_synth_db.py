"""`kosql data synth --db`: rows for a database the generator has never seen (Korean identifiers that
need quotes, no declared foreign key but an inferred one), their splits, and refused inputs."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from kosql.cli.main import main
from kosql.data.schema import parse_schema
from kosql.errors import UserError
from kosql.pipeline.synth_db import check_names, read_names, synth_from_database
from kosql.sql.quote_repair import repair_identifiers

DDL = """
CREATE TABLE "구단" ("구단 ID" INTEGER PRIMARY KEY, "구단명" TEXT, "연고지" TEXT, "창단 연도" INTEGER);
CREATE TABLE "선수 기록" (
  "기록 번호" INTEGER PRIMARY KEY, "선수 이름" TEXT, "구단 ID" INTEGER, "포지션" TEXT,
  "출신 학교/팀" TEXT, "키(cm)" INTEGER, "득점" INTEGER, "데뷔일" TEXT, "비고" TEXT
);
"""


def make_db(path: Path) -> Path:
    rng = random.Random(7)
    conn = sqlite3.connect(path)
    conn.executescript(DDL)
    clubs = ["서울 이글스", "부산 갈매기", "대구 라이온즈", "광주 타이거즈", "인천 비룡"]
    for i, name in enumerate(clubs, 1):
        conn.execute('INSERT INTO "구단" VALUES (?, ?, ?, ?)', (i, name, name.split()[0], 1980 + 3 * i))
    schools = ["한빛 FC(서울)", "한양대학교", "경희대학교", "덕수고", "충암고"]
    for i in range(1, 61):
        conn.execute('INSERT INTO "선수 기록" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
                     (i, f"선수{i:02d}", 1 + i % 4, rng.choice(["투수", "포수", "내야수", "외야수"]),
                      rng.choice(schools), rng.randint(170, 199), rng.randint(0, 45),
                      f"20{rng.randint(10, 23)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                      None if i % 5 else "부상"))
    conn.commit()
    conn.close()
    return path


def _rows(folder: Path, split: str) -> list[dict[str, object]]:
    return [json.loads(x) for x in (folder / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("dbsynth")
    db = make_db(root / "baseball.sqlite")
    out = root / "out"
    assert main(["data", "synth", "--db", str(db), "--out", str(out), "--phrasings", "2"]) == 0
    return db, out


def test_every_row_runs_on_the_database_with_a_useful_result(synthesized: tuple[Path, Path]) -> None:
    db, out = synthesized
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = [r for s in ("train", "dev", "test") for r in _rows(out, s)]
    assert len(rows) >= 100
    schema = {"구단": ["구단 ID", "구단명", "연고지", "창단 연도"],
              "선수 기록": ["기록 번호", "선수 이름", "구단 ID", "포지션", "출신 학교/팀", "키(cm)", "득점", "데뷔일", "비고"]}
    for row in rows:
        sql = str(row["answer"])
        result = conn.execute(sql).fetchall()
        assert result and not all(v is None for r in result for v in r), sql
        assert repair_identifiers(sql, schema) == sql, sql  # every Korean identifier is already quoted
        assert row["db_path"] == str(db.resolve()) and row["db_id"] == "baseball"
        assert "CREATE TABLE" in str(row["context"])
    answers = [str(r["answer"]) for r in rows]
    assert any('JOIN "구단" AS T2 ON T1."구단 ID" = T2."구단 ID"' in a for a in answers)  # the inferred key
    assert any('"출신 학교/팀" = ' in a for a in answers)


def test_rows_and_lookups_follow_what_users_mean(synthesized: tuple[Path, Path]) -> None:
    _, out = synthesized
    rows = [r for s in ("train", "dev", "test") for r in _rows(out, s)]
    star = [r for r in rows if r["template"] == "rows"]
    assert star and all(str(r["answer"]).startswith("SELECT * FROM") for r in star)
    lookups = [r for r in rows if r["template"] == "lookup"]
    assert lookups
    for r in lookups:  # one asked-for column, filtered on other columns by values
        sql = str(r["answer"])
        assert " WHERE " in sql and "," not in sql.split(" FROM ")[0]
    questions = {str(r["question"]) for r in rows}
    assert len(questions) == len(rows)  # phrasings differ
    endings = {q.rstrip("?").split()[-1] for q in questions}
    assert len(endings) >= 10  # informal, polite and formal endings, noun phrases


def test_the_test_split_holds_out_templates_and_tables(synthesized: tuple[Path, Path]) -> None:
    _, out = synthesized
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    held = set(summary["heldout_templates"])
    assert held and summary["counts"]["train"] > summary["counts"]["test"] > 0
    train, dev, test = (_rows(out, s) for s in ("train", "dev", "test"))
    assert all(r["template"] in held for r in test)  # two tables: no table held out
    assert not any(r["template"] in held for r in train + dev)
    sql_of = {s: {str(r["answer"]) for r in rs} for s, rs in (("train", train), ("dev", dev), ("test", test))}
    assert not (sql_of["train"] & sql_of["test"]) and not (sql_of["train"] & sql_of["dev"])


def test_same_seed_same_files(synthesized: tuple[Path, Path], tmp_path: Path) -> None:
    db, out = synthesized
    again = tmp_path / "again"
    synth_from_database(str(db), again, phrasings=2, progress=False)
    for name in ("train.jsonl", "dev.jsonl", "test.jsonl"):
        assert (again / name).read_bytes() == (out / name).read_bytes()


def test_names_glossary_names_the_columns_in_questions(tmp_path: Path) -> None:
    db = make_db(tmp_path / "b.sqlite")
    names = tmp_path / "names.txt"
    names.write_text("# glossary\n연고지: 홈 도시\n선수 기록.득점: 시즌 득점\n구단: 야구단\n", encoding="utf-8")
    out = tmp_path / "out"
    s = synth_from_database(str(db), out, names=read_names(names), phrasings=1, max_queries=80, progress=False)
    questions = " ".join(str(r["question"]) for sp in ("train", "dev", "test") for r in _rows(out, sp))
    assert s.queries == 80 and "홈 도시" in questions and "시즌 득점" in questions and "야구단" in questions


def test_names_parser_and_unknown_names() -> None:
    schema = parse_schema(DDL)
    assert check_names({"선수 기록.포지션": "수비 위치", "연고지": "홈"}, schema) == \
        {"선수 기록.포지션": "수비 위치", "연고지": "홈"}
    with pytest.raises(UserError, match="'등번호'"):
        check_names({"등번호": "번호", "구단명": "팀 이름"}, schema)
    with pytest.raises(UserError, match="'선수 기록.등번호'"):
        check_names({"선수 기록.등번호": "번호"}, schema)


def _refused(args: list[str], capsys: pytest.CaptureFixture[str], out: Path, words: str) -> None:
    assert main(["data", "synth", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) <= 2, err
    assert not out.exists()


def test_bad_inputs_are_refused_with_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    _refused(["--db", str(tmp_path / "missing.sqlite")], capsys, out, "does not exist")
    text = tmp_path / "notes.sqlite"
    text.write_text("hello, not a database" * 100, encoding="utf-8")
    _refused(["--db", str(text)], capsys, out, "not a SQLite database")
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    _refused(["--db", str(empty)], capsys, out, "has no tables")
    no_rows = tmp_path / "norows.sqlite"
    conn = sqlite3.connect(no_rows)
    conn.executescript(DDL)
    conn.close()
    _refused(["--db", str(no_rows)], capsys, out, "empty")
    db = make_db(tmp_path / "ok.sqlite")
    names = tmp_path / "names.txt"
    names.write_text("등번호: 번호\n", encoding="utf-8")
    _refused(["--db", str(db), "--names", str(names)], capsys, out, "'등번호'")
    names.write_text("no colon here\n", encoding="utf-8")
    _refused(["--db", str(db), "--names", str(names)], capsys, out, "line 1")
    _refused(["--db", "postgresql://u:secret@127.0.0.1:1/nothing"], capsys, out, "cannot connect")
    _refused(["--names", str(names)], capsys, out, "--names is for --db")


def test_a_postgres_url_is_recorded_without_its_password() -> None:
    from kosql.pipeline.synth_db import _public_url

    assert _public_url("postgresql://reader:s3cret@db.example:5432/shop?sslmode=require") == \
        "postgresql://reader@db.example:5432/shop?sslmode=require"


def test_comparisons_ask_with_round_numbers_as_people_do(tmp_path: Path) -> None:
    import re

    rng = random.Random(3)
    conn = sqlite3.connect(tmp_path / "rent.sqlite")
    conn.execute("CREATE TABLE cars (car_id INTEGER PRIMARY KEY, model TEXT, maker TEXT, daily_rate INTEGER)")
    conn.executemany("INSERT INTO cars VALUES (?, ?, ?, ?)",
                     [(i, f"모델{i}", rng.choice(["현대", "기아", "BMW"]), rng.randrange(41_000, 189_000, 100))
                      for i in range(1, 81)])
    conn.commit()
    rates = {r[0] for r in conn.execute("SELECT daily_rate FROM cars")}
    conn.close()
    synth_from_database(str(tmp_path / "rent.sqlite"), tmp_path / "out", max_queries=120, progress=False)
    rows = [json.loads(x) for s in ("train", "dev", "test")
            for x in (tmp_path / "out" / f"{s}.jsonl").read_text(encoding="utf-8").splitlines()]
    asked = [int(m.group(1)) for r in rows for m in re.finditer(r"daily_rate (?:[<>]=?) (\d+)", r["answer"])]
    assert any(v not in rates and v % 1000 == 0 for v in asked)  # a round number, not a stored value
    assert any(v in rates for v in asked)  # and stored values too
    assert any(re.search(r"\d+만", r["question"]) for r in rows)  # said the Korean way: 9만
