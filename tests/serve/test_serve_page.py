"""The web page end to end in headless Chromium (Debian's chromium + chromium-driver via Selenium):
ask in Korean, see rows and a chart, edit and re-run the SQL, save a correction, find the saved row.

The browser packages (and a Korean font) are installed by the test set-up (apt); in CI (env CI set) a failed install is a
failure, elsewhere a skip. A screenshot is kept under the test's tmp dir, and copied to
$KOSQL_ARTIFACTS when that is set.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kosql.serve.app import build_state, resolve_db
from kosql.serve.config import ServeConfig
from kosql.serve.fakes import fixed_backend
from kosql.testing.debian import ensure_debian_packages

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
KOREAN_FONT = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"  # so the screenshot shows Hangul
DEPT_SQL = ("SELECT d.name AS department, COUNT(*) AS employees FROM employees e JOIN departments d "
            "ON e.department_id = d.department_id GROUP BY d.name ORDER BY d.name;")
YEAR_SQL = "SELECT substr(hire_date, 1, 4) AS year, COUNT(*) AS hires FROM employees GROUP BY year ORDER BY year"
QUESTION = "부서별 직원 수를 알려 줘"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1200,1600", "--lang=ko-KR"]


@pytest.fixture(scope="session")
def chromium() -> None:
    if not ensure_debian_packages(["chromium", "chromium-driver", "fonts-nanum"],
                                  [CHROMIUM, CHROMEDRIVER, KOREAN_FONT]):
        message = "Debian's chromium and chromium-driver could not be installed (apt-get as root needed)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def driver(chromium: None, tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    options.add_argument(f"--user-data-dir={profile}")
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    drv.set_page_load_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()


def _wait(drv: Any, condition: Any, timeout: float = 180, poll: float = 0.2) -> Any:
    """Wait for ``condition``; the timeout only bounds a failure (the machine may be loaded).

    An element the page replaces between two WebDriver calls (``find_element`` then ``.text``) raises
    StaleElementReferenceException, which WebDriverWait does not retry by default: the test then
    failed when a render landed between the two calls, more often on a busy machine. It is retried."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(drv, timeout, poll_frequency=poll,
                         ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def _attribute(drv: Any, css: str, name: str) -> str | None:
    """``name`` of the element ``css`` selects, read in one script call (never a stale element)."""
    return drv.execute_script("const e = document.querySelector(arguments[0]); "
                              "return e ? e.getAttribute(arguments[1]) : null;", css, name)


def _keep_screenshot(drv: Any, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    drv.save_screenshot(str(shot))
    target = os.environ.get("KOSQL_ARTIFACTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(target) / name)
    return shot


def _query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as con:
        return list(con.execute(sql))


def test_page_ask_chart_edit_and_feedback(driver: Any, live: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    db = tmp_path / "hr.sqlite"
    shutil.copy(resolve_db("bundled:hr"), db)
    feedback = tmp_path / "feedback.jsonl"
    state = build_state(ServeConfig(model_id="kosql-test", feedback_path=feedback), fixed_backend(DEPT_SQL),
                        db=str(db))
    find = driver.find_element
    with live(None, state=state) as (url, _):
        driver.get(url + "/")
        _wait(driver, lambda d: "kosql-test" in find(By.ID, "server-info").text)
        assert "hr" in find(By.ID, "server-info").text

        # an empty question is a plain sentence, not a request
        find(By.ID, "ask").click()
        _wait(driver, lambda d: find(By.ID, "error").is_displayed())
        assert find(By.ID, "error").text == "질문을 입력해 주세요."

        # ask in Korean: SQL, verdict, rows and a bar chart
        find(By.ID, "question").send_keys(QUESTION)
        find(By.ID, "ask").click()
        expected = _query(db, DEPT_SQL)
        _wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#result tbody tr")) == len(expected))
        assert find(By.ID, "sql").get_attribute("value") == DEPT_SQL
        assert "가드 통과" in find(By.ID, "verdict").text
        assert "(LIMIT 100 추가)" in find(By.ID, "verdict").text  # the guard's notes in Korean, not "added"
        assert find(By.ID, "cost").text.startswith("비용 확인: 전체 스캔")  # the cost note in Korean
        assert not re.search(r"\b(?:added|Full scans|rows?|scanned)\b", find(By.ID, "sql-box").text)
        assert not find(By.ID, "error").is_displayed()
        first = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#result tbody tr:first-child td")]
        assert first == [expected[0][0], str(expected[0][1])]
        chart = find(By.CSS_SELECTOR, "#chart svg")
        assert chart.get_attribute("data-kind") == "bar"
        assert len(driver.find_elements(By.CSS_SELECTOR, "#chart rect.bar")) == len(expected)
        _keep_screenshot(driver, tmp_path, "serve_page_ask.png")

        # edit the SQL and re-run it: a date axis gives a line chart
        box = find(By.ID, "sql")
        box.clear()
        box.send_keys(YEAR_SQL)
        find(By.ID, "run").click()
        years = _query(db, YEAR_SQL)
        _wait(driver, lambda d: _attribute(d, "#chart svg", "data-kind") == "line")  # the chart is replaced
        assert len(driver.find_elements(By.CSS_SELECTOR, "#result tbody tr")) == len(years)
        assert len(driver.find_elements(By.CSS_SELECTOR, "#chart circle.dot")) == len(years)

        # "고쳤어요" saves the corrected SQL as a training row
        find(By.ID, "fb-fixed").click()
        _wait(driver, lambda d: "저장했어요" in find(By.ID, "fb-status").text)
        rows = [json.loads(line) for line in feedback.read_text(encoding="utf-8").splitlines()]
        assert len(rows) == 1
        assert rows[0]["question"] == QUESTION and rows[0]["answer"] == YEAR_SQL
        assert rows[0]["feedback"] == "corrected" and rows[0]["model_sql"] == DEPT_SQL
        assert "CREATE TABLE employees" in rows[0]["context"]

        # a refused SQL shows the guard's reason as a sentence; the history keeps the question
        box.clear()
        box.send_keys("DELETE FROM employees")
        find(By.ID, "run").click()
        _wait(driver, lambda d: "막았어요" in find(By.ID, "verdict").text)
        assert "SELECT 쿼리만 실행할 수 있어요" in find(By.ID, "verdict").text  # the guard's reason in Korean
        assert not find(By.ID, "error").is_displayed()
        assert find(By.ID, "result-box").is_displayed() is False
        assert [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#history li")] == [QUESTION]
        stored = driver.execute_script("return localStorage.getItem('kosql.history')")
        assert json.loads(stored) == [QUESTION]
        logs = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert not logs, logs  # no script errors, no blocked resources
        shot = _keep_screenshot(driver, tmp_path, "serve_page.png")
        assert shot.stat().st_size > 10_000


def test_waits_survive_an_element_replaced_while_they_poll(driver: Any, tmp_path: Path) -> None:
    """The page replaces #chart svg when a result renders; here it is replaced every millisecond and
    says 'line' only after a second: polling it ~10 times must neither fail nor see a stale element."""
    page = tmp_path / "flip.html"
    page.write_text("""<html><body><div id="chart"></div><script>
const start = Date.now();
setInterval(() => {
  const s = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  s.setAttribute("data-kind", Date.now() - start > 1000 ? "line" : "bar");
  document.getElementById("chart").replaceChildren(s);
}, 1);
</script></body></html>""", encoding="utf-8")
    driver.get(page.as_uri())
    polls: list[str | None] = []

    def is_line(d: Any) -> bool:
        polls.append(_attribute(d, "#chart svg", "data-kind"))
        return polls[-1] == "line"

    assert _wait(driver, is_line, poll=0.1)
    assert len(polls) >= 5 and polls[0] == "bar"
