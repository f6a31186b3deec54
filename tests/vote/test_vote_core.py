"""The vote over candidates with known results: largest group, ties to greedy, failures get no vote,
the share counts every candidate, and row order only counts when both queries order."""

from __future__ import annotations

from kosql.db.execute import ExecResult
from kosql.vote.core import GREEDY, Candidate, vote, vote_record


def _ok(*rows: tuple[object, ...]) -> ExecResult:
    return ExecResult(ok=True, timeout=False, error=None, error_kind=None, columns=["c"] * len(rows[0] if rows else ()),
                      rows=list(rows), truncated=False, seconds=0.0)


def _cand(sql: str, result: ExecResult | None, *, greedy: bool = False, error: str | None = None) -> Candidate:
    return Candidate(sql, result=result, error=error, origin=GREEDY if greedy else "sample")


def test_the_largest_group_wins_over_the_greedy_answer() -> None:
    pool = [_cand("SELECT 1", _ok((1,)), greedy=True), _cand("SELECT 2", _ok((2,))), _cand("SELECT 1+1", _ok((2,))),
            _cand("SELECT 4/2", _ok((2.0,))), _cand("SELECT x", None, error="unknown_column: no such column: x")]
    out = vote(pool)
    assert out.winner == 1 and out.groups == ((1, 2, 3), (0,))
    assert out.share == 3 / 5 and not out.greedy_agreed
    assert out.confident(0.6) and not out.confident(0.61)
    record = vote_record(pool, out, 4)
    assert record["k"] == 4 and record["groups"] == [3, 1] and record["share"] == 0.6
    assert [c["group"] for c in record["candidates"]] == [1, 0, 0, 0, None]
    assert record["candidates"][4]["error"].startswith("unknown_column")


def test_a_tie_goes_to_the_group_holding_the_greedy_answer() -> None:
    pool = [_cand("SELECT 2", _ok((2,))), _cand("SELECT 2", _ok((2,))),
            _cand("SELECT 1", _ok((1,)), greedy=True), _cand("SELECT 1 AS one", _ok((1,)))]
    out = vote(pool)
    assert out.winner == 2 and out.greedy_agreed and out.share == 0.5
    assert out.groups[0] == (2, 3)
    # without a greedy candidate in either group, the group seen first wins, with its first member
    pool[2] = _cand("SELECT 1", _ok((1,)))
    pool.append(_cand("SELECT bad", None, greedy=True, error="syntax: near bad"))
    out = vote(pool)
    assert out.winner == 0 and not out.greedy_agreed and out.share == 2 / 5


def test_no_candidate_runs_no_winner_and_zero_share() -> None:
    pool = [_cand("SELECT nope", None, greedy=True, error="unknown_table: no such table: nope"),
            _cand("", None, error="no SQL in the model's answer"),
            _cand("SELECT 1", ExecResult(ok=False, timeout=True, error="interrupted", error_kind="timeout"))]
    out = vote(pool)
    assert out.winner is None and out.share == 0.0 and not out.greedy_agreed and out.groups == ()
    assert not out.confident(0.0)
    assert vote_record(pool, out, 2)["groups"] == []


def test_greedy_alone_agreeing_with_everyone_is_full_confidence() -> None:
    pool = [_cand("SELECT a, b FROM t", _ok((1, "x"), (2, "y")), greedy=True),
            _cand("SELECT b, a FROM t", _ok(("y", 2), ("x", 1)))]  # columns and rows in another order
    out = vote(pool)
    assert out.winner == 0 and out.share == 1.0 and out.greedy_agreed


def test_row_order_counts_only_when_both_queries_order() -> None:
    asc, desc = _ok((1,), (2,)), _ok((2,), (1,))
    ordered = vote([_cand("SELECT v FROM t ORDER BY v", asc, greedy=True), _cand("SELECT v FROM t ORDER BY v DESC", desc)])
    assert len(ordered.groups) == 2 and ordered.winner == 0 and ordered.share == 0.5
    loose = vote([_cand("SELECT v FROM t ORDER BY v", asc, greedy=True), _cand("SELECT v FROM t", desc)])
    assert loose.groups == ((0, 1),)


def test_the_vote_is_pure() -> None:
    """kosql.vote.core reads no database and no file: it imports kosql.sql only."""
    import ast
    from pathlib import Path

    import kosql.vote.core as core

    tree = ast.parse(Path(core.__file__).read_text(encoding="utf-8"))
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert {m for m in modules if m.startswith("kosql")} == {"kosql.sql.compare"}
