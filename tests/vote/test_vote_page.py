"""The page with `kosql serve --vote 4` in headless Chromium: 확신도 NN% above the threshold; below it
확실하지 않습니다, the candidates' SQL instead of rows, and a click puts a candidate in the SQL box."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kosql.serve.app import build_state, create_app
from kosql.serve.config import ServeConfig
from kosql.serve.live import serve_in_thread
from kosql.testing.debian import ensure_debian_packages

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
GREEDY = "SELECT count(*) FROM orders WHERE ordered_at LIKE '2024%'"
SAMPLES = ["SELECT count(*) FROM orders WHERE YEAR(ordered_at) = 2024", "SELECT count(*) FROM orders",
           "SELECT count(*) FROM customers WHERE city = '서울'", "SELECT max(amount) FROM orders"]


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    if not ensure_debian_packages(["chromium", "chromium-driver"], [CHROMIUM, CHROMEDRIVER]):
        message = "Debian's chromium and chromium-driver could not be installed (apt-get as root needed)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--window-size=1200,1400", f"--user-data-dir={tmp_path / 'p'}"):
        options.add_argument(flag)
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    drv.set_page_load_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()


def _text(drv: Any, css: str) -> str:
    """The element's text in one script call (never a stale element)."""
    return str(drv.execute_script("const e = document.querySelector(arguments[0]); "
                                  "return e && !e.closest('[hidden]') ? e.textContent : '';", css))


def _ask(drv: Any, url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    drv.get(url + "/")
    drv.find_element(By.ID, "question").send_keys("2024년에 주문된 건수는?")
    drv.find_element(By.ID, "ask").click()
    WebDriverWait(drv, 180, poll_frequency=0.2).until(lambda d: "확" in _text(d, "#confidence"))


def test_the_page_shows_the_confidence_or_says_it_is_not_sure(driver: Any, orders_db: Path, scripted: Any,
                                                               tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    for min_confidence in (0.4, 0.5):
        config = ServeConfig(model_id="t", feedback_path=tmp_path / "fb.jsonl", vote=4, min_confidence=min_confidence)
        state = build_state(config, scripted(greedy=GREEDY, samples=SAMPLES), db=str(orders_db))
        with serve_in_thread(create_app(state)) as url:
            _ask(driver, url)
            if min_confidence == 0.4:  # 2 of 5 candidates return 3 (the greedy one and the transpiled YEAR())
                assert _text(driver, "#confidence") == "확신도 40%"
                assert driver.find_element(By.ID, "result-box").is_displayed()
                assert _text(driver, "#candidates") == ""
                continue
            assert _text(driver, "#confidence").startswith("확실하지 않습니다 (확신도 40%)")
            assert not driver.find_element(By.ID, "result-box").is_displayed()  # no rows shown as the answer
            items = driver.find_elements(By.CSS_SELECTOR, "#candidates li")
            assert [li.text for li in items][0] == f"[2표]{GREEDY}" and len(items) == 5
            items[2].click()
            assert driver.find_element(By.ID, "sql").get_attribute("value") == SAMPLES[1]
            assert not [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
