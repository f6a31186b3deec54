"""`bundled:` has one meaning per option: a dataset size in --data, a database in --db; the other
meaning is refused with a sentence that says which is expected."""

from __future__ import annotations

import pytest

from kosql.ask.dbspec import resolve_db
from kosql.cli.main import main
from kosql.data.resolve import bundled_database_names, bundled_spec
from kosql.errors import UserError


@pytest.mark.parametrize("spec", ["bundled:small", "bundled:full", "bundled:small+comments"])
def test_a_dataset_size_in_db_says_that_db_takes_a_database(spec: str) -> None:
    with pytest.raises(UserError) as err:
        resolve_db(spec)
    message = str(err.value)
    assert f"--db {spec}" in message and "dataset size" in message and "--data" in message
    assert "hr, " in message and "shop" in message


def test_a_database_in_data_says_that_data_takes_a_size(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UserError, match=r"--data bundled:hr: 'hr' is a bundled database \(for --db\).*small, full"):
        bundled_spec("bundled:hr", "--data")
    assert main(["eval", "--data", "bundled:shop", "--pred", "gold", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "'shop' is a bundled database" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(UserError, match="size must be one of"):  # neither: the sizes
        bundled_spec("bundled:huge", "--data")


def test_the_database_names_are_known_without_generating_the_dataset() -> None:
    names = bundled_database_names()
    assert "hr" in names and "shop" in names and not {"small", "full"} & set(names)
