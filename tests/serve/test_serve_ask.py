"""/api/sql, /api/ask, /api/run and /api/feedback over a bundled SQLite database."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

from kosql.serve.app import build_state, db_identity, resolve_db
from kosql.serve.config import ServeConfig
from kosql.serve.fakes import fixed_backend

DEPT_SQL = ("SELECT d.name, COUNT(*) AS employees FROM employees e JOIN departments d "
            "ON e.department_id = d.department_id GROUP BY d.name ORDER BY d.name;")


@pytest.fixture(scope="module")
def hr_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled hr database (the tests never touch the cached one)."""
    target = tmp_path_factory.mktemp("db") / "hr.sqlite"
    shutil.copy(resolve_db("bundled:hr"), target)
    return target


@pytest.fixture
def ask_server(live, hr_db, tmp_path):
    config = ServeConfig(model_id="kosql-test", feedback_path=tmp_path / "feedback.jsonl")
    state = build_state(config, fixed_backend(DEPT_SQL), db=str(hr_db))
    with live(None, state=state) as (url, st):
        yield url, st


def _expected_rows(db: Path) -> list[list[object]]:
    with sqlite3.connect(db) as con:
        return [list(r) for r in con.execute(DEPT_SQL)]


def test_ask_returns_sql_verdict_rows_chart_and_timings(ask_server, hr_db):
    url, _ = ask_server
    r = httpx.post(url + "/api/ask", json={"question": "부서별 직원 수를 알려 줘"}, timeout=30)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["sql"] == DEPT_SQL
    assert out["verdict"]["allowed"] is True
    assert out["error"] is None
    assert out["columns"] == ["name", "employees"]
    assert out["rows"] == _expected_rows(hr_db)
    assert out["chart"]["kind"] == "bar" and out["chart"]["x"] == "name" and out["chart"]["y"] == "employees"
    assert out["cost"]
    assert {"generate", "guard", "execute"} <= set(out["timings"])
    assert "employees" in out["tables"]


def test_run_uses_the_same_guard(ask_server, hr_db):
    url, _ = ask_server
    ok = httpx.post(url + "/api/run", json={"question": "q", "sql": "SELECT name FROM departments ORDER BY name"})
    with sqlite3.connect(hr_db) as con:
        names = [[n] for (n,) in con.execute("SELECT name FROM departments ORDER BY name")]
    assert ok.status_code == 200 and ok.json()["verdict"]["allowed"] and ok.json()["rows"] == names
    assert "LIMIT" in ok.json()["verdict"]["sql"]
    refused = httpx.post(url + "/api/run", json={"sql": "DELETE FROM employees"}).json()
    assert refused["verdict"]["allowed"] is False and refused["error"] and refused["rows"] == []
    broken = httpx.post(url + "/api/run", json={"sql": "SELECT nope FROM departments"}).json()
    assert broken["error"] and broken["chart"] is None


def test_sql_endpoint_with_and_without_ddl(ask_server):
    url, _ = ask_server
    own = httpx.post(url + "/api/sql", json={"question": "부서 이름", "ddl": "CREATE TABLE x (a INT);"}).json()
    assert own["sql"] == DEPT_SQL and own["tables"] == []
    db = httpx.post(url + "/api/sql", json={"question": "부서 이름"}).json()
    assert db["sql"] == DEPT_SQL and db["tables"]


@pytest.mark.parametrize("path, body, code", [
    ("/api/ask", {"question": "   "}, "empty_question"),
    ("/api/ask", {"question": "가" * 1001}, "question_too_long"),
    ("/api/ask", {"question": 5}, "invalid_value"),
    ("/api/ask", {}, "missing_field"),
    ("/api/ask", {"question": "q", "extra": 1}, "invalid_value"),
    ("/api/run", {"sql": ""}, "empty_sql"),
    ("/api/feedback", {"question": "q", "sql": "SELECT 1", "kind": "maybe"}, "invalid_value"),
])
def test_bad_api_requests_are_4xx_and_server_keeps_serving(ask_server, path, body, code):
    url, _ = ask_server
    r = httpx.post(url + path, json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"].endswith(".")
    assert httpx.post(url + "/api/run", json={"sql": "SELECT 1 AS one"}).json()["rows"] == [[1]]


def test_feedback_rows_load_as_training_data(ask_server, hr_db):
    url, state = ask_server
    path = state.feedback.path
    fixed = "SELECT name FROM departments WHERE budget > 100"
    for body in ({"question": "부서별 직원 수", "sql": DEPT_SQL, "kind": "correct", "model_sql": DEPT_SQL},
                 {"question": "예산이 100 넘는 부서", "sql": fixed, "kind": "corrected", "model_sql": DEPT_SQL}):
        r = httpx.post(url + "/api/feedback", json=body)
        assert r.status_code == 200 and r.json()["saved"], r.text
    refused = httpx.post(url + "/api/feedback", json={"question": "q", "sql": "DROP TABLE employees",
                                                      "kind": "corrected"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "refused_sql"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [row["answer"] for row in lines] == [DEPT_SQL, fixed]
    assert lines[1]["feedback"] == "corrected" and lines[1]["model_sql"] == DEPT_SQL
    assert "CREATE TABLE" in lines[0]["context"] and lines[0]["db_id"] == "hr"

    from kosql.train.data import check_gold_sql, load_rows

    rows = load_rows(str(path), "train", field_name="data.train")
    assert [r.question for r in rows] == ["부서별 직원 수", "예산이 100 넘는 부서"]
    assert rows[0].db_path == str(hr_db)
    check = check_gold_sql(rows)
    assert check.checked == 2 and not check.failed_ids, check


def test_a_saved_correction_holds_the_schema_the_model_is_shown_never_a_denied_column(live, hr_db, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("denied_columns: [employees.salary, email]\n", encoding="utf-8")
    config = ServeConfig(model_id="kosql-test", feedback_path=tmp_path / "feedback.jsonl")
    state = build_state(config, fixed_backend(DEPT_SQL), db=str(hr_db), policy=str(policy))
    question = "부서별 직원 수"
    with live(None, state=state) as (url, st):
        r = httpx.post(url + "/api/feedback", json={"question": question, "sql": DEPT_SQL, "kind": "correct"})
        assert r.status_code == 200, r.text
        row = json.loads(st.feedback.path.read_text(encoding="utf-8"))
    assert "CREATE TABLE employees" in row["context"] and "position" in row["context"]
    assert "salary" not in row["context"] and "email" not in row["context"]
    assert row["context"] in state.asker.prompt(question)[0]  # the DDL of the prompt, as the model saw it


def test_a_correction_reading_a_table_the_prompt_left_out_adds_that_table(hr_db):
    from kosql.ask import Asker, Policy

    asker = Asker(str(hr_db), policy=Policy(denied_columns=["salary"]), prompt_budget=1)
    _, shown = asker.prompt("부서")
    assert "employees" not in shown  # a one-token budget keeps one table
    context = asker.prompt_ddl("부서", "SELECT e.name FROM employees AS e WHERE e.position = 'x'")
    assert "CREATE TABLE employees" in context and "salary" not in context
    assert asker.prompt_ddl("부서") == asker.prompt_ddl("부서", "SELECT 1")


def test_no_database_answers_a_clear_400(live):
    with live(fixed_backend("SELECT 1")) as (url, _):
        r = httpx.post(url + "/api/ask", json={"question": "부서"})
        assert r.status_code == 400 and "--db" in r.json()["error"]["message"]


def test_db_spec_resolution(tmp_path):
    assert resolve_db("bundled:hr").endswith("hr.sqlite")
    from kosql.errors import UserError

    with pytest.raises(UserError, match="bundled dataset has no database 'nope'"):
        resolve_db("bundled:nope")
    with pytest.raises(UserError, match="does not exist"):
        resolve_db(str(tmp_path / "missing.sqlite"))
    assert db_identity("postgresql://kim:pw@host:5432/shop") == ("postgresql://kim:***@host:5432/shop", "shop", None)
    assert db_identity("sqlite:////tmp/a/hr.sqlite") == ("sqlite:////tmp/a/hr.sqlite", "hr", "/tmp/a/hr.sqlite")
