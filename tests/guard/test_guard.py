"""The SQL guard: adversarial statements refused, golden allowed statements re-emitted, policy loading,
the bundled dataset's gold queries allowed, and `kosql guard`'s output and exit codes."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kosql.errors import UserError
from kosql.sql.guard import Policy, check_policy_tables, check_sql, load_policy
from kosql.testing.sqlfile import read_blocks

HERE = Path(__file__).resolve().parent
POLICY = HERE / "policy.yaml"
MESSENGER = {"users": ["user_id", "username", "email", "phone", "status_message", "created_at"],
             "chat_rooms": ["room_id", "title", "room_type", "created_at"],
             "messages": ["message_id", "room_id", "sender_id", "content", "sent_at", "is_read"]}
ADVERSARIAL = read_blocks(HERE / "adversarial.sql")


def test_the_adversarial_file_holds_at_least_100_statements() -> None:
    assert len(ADVERSARIAL) >= 100
    assert len(set(ADVERSARIAL)) == len(ADVERSARIAL)


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
@pytest.mark.parametrize("with_schema", [False, True])
def test_every_adversarial_statement_is_refused(dialect: str, with_schema: bool) -> None:
    policy = load_policy(POLICY)
    schema = MESSENGER if with_schema else None
    allowed = [s for s in ADVERSARIAL if check_sql(s, policy, dialect=dialect, schema=schema).allowed]
    assert allowed == []
    for s in ADVERSARIAL:
        verdict = check_sql(s, policy, dialect=dialect, schema=schema)
        assert verdict.reason and verdict.sql == "" and verdict.reason.endswith(".")


def _golden() -> list[tuple[str, str]]:
    out = []
    for block in read_blocks(HERE / "allowed_golden.sql"):
        sql, _, expected = block.partition("\n=> ")
        out.append((sql, expected))
    return out


@pytest.mark.parametrize(("sql", "expected"), _golden())
def test_allowed_statements_run_as_re_emitted(sql: str, expected: str) -> None:
    verdict = check_sql(sql, load_policy(POLICY), dialect="sqlite", schema=MESSENGER)
    assert verdict.allowed, verdict.reason
    assert verdict.sql == expected


def test_limit_notes() -> None:
    policy = load_policy(POLICY)
    assert check_sql("SELECT 1 FROM users", policy).notes == ["LIMIT 50 added"]
    assert check_sql("SELECT 1 FROM users LIMIT 900", policy).notes == ["LIMIT 900 lowered to 50"]
    assert check_sql("SELECT 1 FROM users LIMIT 5", policy).notes == []


def test_star_over_a_denied_column_can_be_expanded_without_it() -> None:
    policy = dataclasses.replace(load_policy(POLICY), star="expand")
    verdict = check_sql("SELECT * FROM users WHERE user_id = 3", policy, dialect="sqlite", schema=MESSENGER)
    assert verdict.allowed
    assert '"phone"' not in verdict.sql and '"email"' not in verdict.sql and '"username"' in verdict.sql
    assert verdict.notes[0].startswith("'*' over 'users' expanded without")
    refused = check_sql("SELECT * FROM users", policy, dialect="sqlite", schema=None)
    assert not refused.allowed  # without a schema there is nothing to expand to
    assert not check_sql("SELECT phone FROM users", policy, schema=MESSENGER).allowed


ISSUE_POLICY = Policy(denied_columns=["users.phone", "password_hash"])


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
@pytest.mark.parametrize("sql", ["SELECT U.phone FROM users u", "SELECT U.PHONE FROM users AS u",
                                 'SELECT "U".phone FROM users "u"', "SELECT x.password_hash FROM users u"])
def test_a_denied_column_is_refused_however_its_table_is_spelled(sql: str, dialect: str) -> None:
    for schema in (None, MESSENGER):
        verdict = check_sql(sql, ISSUE_POLICY, dialect=dialect, schema=schema)
        assert not verdict.allowed and verdict.reason.endswith("."), verdict


def test_identifiers_are_compared_as_the_dialect_folds_them() -> None:
    def allowed(sql: str, dialect: str) -> bool:
        return check_sql(sql, ISSUE_POLICY, dialect=dialect).allowed

    for dialect in ("sqlite", "postgres"):
        assert allowed("SELECT U.username FROM users u", dialect)
        assert allowed("SELECT USERS.username FROM Users", dialect)
    # SQLite folds quoted names too; on PostgreSQL "U" is not the alias u, so the qualifier names nothing
    assert allowed('SELECT "U".username FROM users "u"', "sqlite")
    reason = check_sql('SELECT "U".username FROM users "u"', ISSUE_POLICY, dialect="postgres").reason
    assert "names a table or alias that the query does not have" in reason
    only = Policy(allowed_tables=["users"])
    assert check_sql('SELECT 1 FROM "USERS"', only, dialect="sqlite").allowed
    assert not check_sql('SELECT 1 FROM "USERS"', only, dialect="postgres").allowed  # another table there
    assert check_sql("SELECT 1 FROM USERS", only, dialect="postgres").allowed


def test_a_policy_may_name_tables_with_their_schema() -> None:
    policy = Policy(denied_columns=["public.users.phone"], denied_tables=["main.chat_rooms"])
    check_policy_tables(policy, MESSENGER)
    assert not check_sql("SELECT phone FROM users", policy).allowed
    assert not check_sql("SELECT title FROM chat_rooms", policy).allowed
    assert policy.denied_pairs() == [("users", "phone")]
    assert check_sql("SELECT phone FROM main.users", Policy(), dialect="sqlite").allowed
    assert "default schema" in check_sql("SELECT phone FROM other.users", Policy(), dialect="sqlite").reason
    assert "default schema" in check_sql("SELECT phone FROM main.users", Policy(), dialect="postgres").reason


def test_a_qualified_star_is_expanded_under_the_alias_as_written() -> None:
    policy = dataclasses.replace(load_policy(POLICY), star="expand")
    verdict = check_sql("SELECT U.* FROM users u", policy, dialect="postgres", schema=MESSENGER)
    assert verdict.allowed, verdict.reason
    assert verdict.sql.startswith('SELECT u."user_id", u."username", u."status_message"')
    assert "phone" not in verdict.sql and "email" not in verdict.sql


def test_table_lists() -> None:
    policy = Policy(allowed_tables=["messages"], denied_tables=["chat_rooms"])
    assert check_sql("SELECT content FROM messages", policy).allowed
    assert "not in the policy's allowed tables" in check_sql("SELECT 1 FROM users", policy).reason
    assert "denied by the policy" in check_sql(
        "SELECT m.content FROM messages m JOIN chat_rooms c ON c.room_id = m.room_id", policy).reason
    assert "has no table 'nope'" in check_sql("SELECT 1 FROM nope", Policy(), schema=MESSENGER).reason


def test_policy_naming_an_unknown_table_or_column_is_a_user_error() -> None:
    with pytest.raises(UserError, match="no table 'nope'"):
        check_policy_tables(Policy(denied_tables=["nope"]), MESSENGER)
    with pytest.raises(UserError, match="has no column 'ssn'"):
        check_policy_tables(Policy(denied_columns=["users.ssn"]), MESSENGER)
    check_policy_tables(Policy(denied_columns=["ssn", "users.phone"]), MESSENGER)  # a bare name is fine


def test_malformed_policy_files(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "a.yaml"
    bad_yaml.write_text("denied_columns: [a\n", encoding="utf-8")
    with pytest.raises(UserError, match="not valid YAML"):
        load_policy(bad_yaml)
    bad_field = tmp_path / "b.yaml"
    bad_field.write_text("max_row: 5\n", encoding="utf-8")
    with pytest.raises(UserError, match="max_row"):
        load_policy(bad_field)
    bad_value = tmp_path / "c.yaml"
    bad_value.write_text("star: maybe\n", encoding="utf-8")
    with pytest.raises(UserError, match="star"):
        load_policy(bad_value)


def test_every_gold_query_of_the_bundled_dataset_is_allowed_and_returns_the_same_rows(
        capsys: pytest.CaptureFixture[str]) -> None:
    from kosql.data.schema import parse_schema
    from kosql.data.synth import bundled_dataset
    from kosql.db.execute import execute_sql

    root = bundled_dataset("small")
    policy = dataclasses.replace(load_policy(None), max_rows=1_000_000)
    total, refused, changed = 0, [], []
    for split in ("train", "dev", "test"):
        for line in (root / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            total += 1
            schema = {t: tb.column_names() for t, tb in parse_schema(row["context"]).tables.items()}
            verdict = check_sql(row["answer"], policy, dialect="sqlite", schema=schema)
            if not verdict.allowed:
                refused.append((row["answer"], verdict.reason))
                continue
            db = root / row["db_path"]
            gold, emitted = execute_sql(db, row["answer"]), execute_sql(db, verdict.sql)
            if gold.ok and sorted(map(repr, gold.rows)) != sorted(map(repr, emitted.rows)):
                changed.append(row["answer"])
    with capsys.disabled():
        print(f"\nguard on bundled:small gold queries: {total} checked, {len(refused)} false refusals, "
              f"{len(changed)} with other rows after re-emitting")
    assert total > 2000
    assert refused == []
    assert changed == []


def _kosql(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kosql", *args], input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_kosql_guard_cli_exit_codes_and_output() -> None:
    ok = _kosql("guard", "--policy", str(POLICY), "SELECT username FROM users LIMIT 500")
    assert ok.returncode == 0, ok.stderr
    assert "ALLOWED  SELECT username FROM users LIMIT 50  (LIMIT 500 lowered to 50)" in ok.stdout
    mixed = _kosql("guard", "--policy", str(POLICY), stdin="SELECT 1\nSELECT phone FROM users\n")
    assert mixed.returncode == 1
    assert "REFUSED  SELECT phone FROM users" in mixed.stdout
    assert "The column 'users.phone' is denied by the policy." in mixed.stdout
    assert "1 allowed, 1 refused." in mixed.stderr
    js = _kosql("guard", "--json", "DROP TABLE users")
    assert js.returncode == 1 and json.loads(js.stdout)["allowed"] is False


def test_kosql_guard_refuses_a_denied_column_behind_a_case_folded_qualifier(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("denied_columns: [users.phone, password_hash]\n", encoding="utf-8")
    statements = ["SELECT U.phone FROM users u", "SELECT U.PHONE FROM users AS u",
                  'SELECT "U".phone FROM users "u"', "SELECT x.password_hash FROM users u"]
    res = _kosql("guard", "--policy", str(policy), "--dialect", "sqlite", "--json", stdin="\n".join(statements))
    verdicts = [json.loads(line) for line in res.stdout.splitlines()]
    assert res.returncode == 1 and [v["input"] for v in verdicts] == statements
    assert [v["allowed"] for v in verdicts] == [False] * 4


def test_kosql_guard_bad_input_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("denied_tables: {a: 1}\n", encoding="utf-8")
    res = _kosql("guard", "--policy", str(bad), "SELECT 1")
    assert res.returncode == 2 and res.stderr.startswith("Error: ") and "Traceback" not in res.stderr
    assert _kosql("guard", "--dialect", "nosuch", "SELECT 1").returncode == 2
    missing = _kosql("guard", "--policy", str(tmp_path / "none.yaml"), "SELECT 1")
    assert missing.returncode == 2 and "no such config file" in missing.stderr


def test_kosql_guard_does_not_import_torch() -> None:
    code = ("import sys; from kosql.cli.main import main; rc = main(['guard', 'SELECT 1']); "
            "print(rc, 'torch' in sys.modules, 'transformers' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.stdout.strip().splitlines()[-1] == "0 False False", res.stderr
