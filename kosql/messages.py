"""The sentences kosql says about a query (the guard's verdict and notes, the cost check, why a query
did not run), in English and Korean, kept in one place.

A :class:`Message` is a ``str`` whose value is the English sentence (what the CLI prints and the
APIs' fields hold) and that also knows its key and parameters, so the Korean page can show it in
Korean (:func:`korean`; the ask API's ``ko`` block). Parameters are inserted as they are (SQL, table
and column names, a database's own error text), formatted by the template (numbers), translated
(a parameter that is itself a Message) or joined (:class:`Seq`). Nothing here imports the rest of
kosql, so every layer (``kosql.sql`` included) may use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EN: dict[str, str] = {
    # the guard's refusals (kosql.sql.guard, kosql.sql.guard_sources)
    "query_empty": "The query is empty.",
    "query_unparsable": "The query does not parse ({error}).",
    "one_statement": "Only one statement may run, and this text holds {count}.",
    "select_only": "Only SELECT queries may run, not {kind}.",
    "not_read_only": "{what} is not allowed in a read-only query.",
    "function_schema": "The function {function} names a schema; call the function without one.",
    "function_not_allowed": "The function {name}() is not on the allow-list.",
    "column_denied": "The column '{column}' is denied by the policy.",
    "structure_unchecked": "The query's structure cannot be checked.",
    "structure_unchecked_why": "The query's structure cannot be checked ({error}).",
    "system_table": "The system table {table} may not be read.",
    "other_schema": "The table {table} is outside the database's default schema '{schema}'; "
                    "name the table without a schema.",
    "no_such_table": "The database has no table '{table}'.",
    "table_denied": "The table '{table}' is denied by the policy.",
    "table_not_allowed": "The table '{table}' is not in the policy's allowed tables.",
    "renamed_denied": "Renaming the columns of table '{table}' ({alias}) would read its denied column "
                      "'{column}' under another name.",
    "natural_join_denied": "A NATURAL JOIN could compare the denied column '{table}.{column}'; join with ON instead.",
    "star_denied": "'*' over table '{table}' would read its denied column '{column}'; name the columns instead.",
    "unknown_qualifier": "'{column}' names a table or alias that the query does not have.",
    "row_reads_denied": "'{column}' reads every column of '{table}', its denied column '{denied}' too.",
    "whole_row_denied": "A whole-row reference to '{table}' would read a denied column.",
    # the guard's notes on an allowed query
    "limit_added": "LIMIT {n} added",
    "limit_lowered": "LIMIT {shown} lowered to {n}",
    "star_expanded": "'*' over '{table}' expanded without {columns}",
    # the cost check (kosql.ask.cost)
    "plan_failed": "The planner could not plan the query ({error}).",
    "plan_writes": "The plan holds a ModifyTable node.",
    "writes": "The plan would write to the database.",
    "cost_estimate": "Estimated cost {cost:,.0f} (budget {budget:,.0f}), {rows:,.0f} rows.",
    "full_scans": "Full scans: {tables}; at most {rows:,.0f} row combinations scanned.",
    "no_full_scans": "Full scans: none; at most {rows:,.0f} row combinations scanned.",
    "large_scans": "{note} Full scan of a large table: {tables}.",
    "table_rows": "{table} ({rows:,} rows)",
    "over_cost": "estimated cost {cost:,.0f} is over the budget of {budget:,.0f}",
    "over_rows": "estimated {rows:,.0f} rows is over the budget of {budget:,.0f}",
    "scans_large": "it fully scans {tables}",
    "too_expensive": "The query is too expensive: {reasons}.",
    # why a question's query did not run (kosql.ask.service)
    "guard_refused": "The guard refused the query: {reason}",
    "allow_expensive_hint": "{reason} Run it with --allow-expensive to run it anyway.",
    "database_refused": "The database refused or stopped the query: {error}",
}

KO: dict[str, str] = {
    "query_empty": "쿼리가 비어 있어요.",
    "query_unparsable": "쿼리를 해석할 수 없어요 ({error}).",
    "one_statement": "한 번에 한 문장만 실행할 수 있는데, 이 글에는 {count}개가 있어요.",
    "select_only": "SELECT 쿼리만 실행할 수 있어요 ({kind} 안 됨).",
    "not_read_only": "읽기 전용 쿼리에서는 {what} 쓸 수 없어요.",
    "function_schema": "함수 {function}에 스키마가 붙어 있어요. 스키마 없이 불러 주세요.",
    "function_not_allowed": "함수 {name}()는 허용 목록에 없어요.",
    "column_denied": "정책이 컬럼 '{column}'을 막고 있어요.",
    "structure_unchecked": "쿼리의 구조를 확인할 수 없어요.",
    "structure_unchecked_why": "쿼리의 구조를 확인할 수 없어요 ({error}).",
    "system_table": "시스템 테이블 {table}은 읽을 수 없어요.",
    "other_schema": "테이블 {table}은 데이터베이스의 기본 스키마 '{schema}' 밖에 있어요. 스키마 없이 테이블 이름만 써 주세요.",
    "no_such_table": "데이터베이스에 테이블 '{table}'이 없어요.",
    "table_denied": "정책이 테이블 '{table}'을 막고 있어요.",
    "table_not_allowed": "테이블 '{table}'은 정책이 허용한 테이블이 아니에요.",
    "renamed_denied": "테이블 '{table}'의 컬럼 이름을 바꾸면({alias}) 막힌 컬럼 '{column}'을 다른 이름으로 읽게 돼요.",
    "natural_join_denied": "NATURAL JOIN은 막힌 컬럼 '{table}.{column}'을 비교할 수 있어요. ON으로 조인해 주세요.",
    "star_denied": "테이블 '{table}'의 '*'는 막힌 컬럼 '{column}'까지 읽어요. 컬럼 이름을 적어 주세요.",
    "unknown_qualifier": "'{column}'이 가리키는 테이블이나 별칭이 쿼리에 없어요.",
    "row_reads_denied": "'{column}'은 '{table}'의 모든 컬럼을, 막힌 컬럼 '{denied}'까지 읽어요.",
    "whole_row_denied": "'{table}'의 행 전체를 가리키면 막힌 컬럼까지 읽게 돼요.",
    "limit_added": "LIMIT {n} 추가",
    "limit_lowered": "LIMIT {shown}을 {n}(으)로 낮춤",
    "star_expanded": "'{table}'의 '*'를 {columns} 빼고 펼침",
    "plan_failed": "실행 계획을 세우지 못했어요 ({error}).",
    "plan_writes": "실행 계획에 쓰기 단계(ModifyTable)가 있어요.",
    "writes": "이 쿼리는 데이터베이스에 쓰기를 해요.",
    "cost_estimate": "예상 비용 {cost:,.0f} (예산 {budget:,.0f}), 약 {rows:,.0f}행.",
    "full_scans": "전체 스캔: {tables}; 훑는 행 조합은 많아야 {rows:,.0f}개.",
    "no_full_scans": "전체 스캔 없음; 훑는 행 조합은 많아야 {rows:,.0f}개.",
    "large_scans": "{note} 큰 테이블 전체 스캔: {tables}.",
    "table_rows": "{table} ({rows:,}행)",
    "over_cost": "예상 비용 {cost:,.0f}이 예산 {budget:,.0f}을 넘어요",
    "over_rows": "예상 행 수 {rows:,.0f}이 예산 {budget:,.0f}을 넘어요",
    "scans_large": "{tables} 전체를 훑어요",
    "too_expensive": "쿼리 비용이 너무 커요: {reasons}.",
    "guard_refused": "가드가 이 쿼리를 막았어요: {reason}",
    "allow_expensive_hint": "{reason} 그래도 실행하려면 --allow-expensive를 붙여 주세요.",
    "database_refused": "데이터베이스가 쿼리를 거부하거나 멈췄어요: {error}",
}


@dataclass(frozen=True)
class Seq:
    """Parameters joined by ``sep`` (each translated when it is a Message)."""

    items: tuple[Any, ...]
    sep: str = ", "


class Message(str):
    """An English sentence (the ``str`` value) that can also be said in Korean (:meth:`ko`)."""

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, params: dict[str, Any] | None = None) -> Message:
        values = dict(params or {})
        self = super().__new__(cls, _render(EN, key, values, korean_text=False))
        self.key = key
        self.params = values
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # copies (dataclasses.asdict) and pickles keep the key
        return (Message, (self.key, self.params))

    def ko(self) -> str:
        """The sentence in Korean."""
        return _render(KO, self.key, self.params, korean_text=True)


def msg(key: str, **params: Any) -> Message:
    """The message ``key`` with ``params`` (a KeyError for an unknown key: every sentence is listed above)."""
    return Message(key, params)


def korean(text: str | None) -> str | None:
    """``text`` in Korean when it is a :class:`Message`; other text (a database's own error) as it is."""
    return text.ko() if isinstance(text, Message) else text


def _render(table: dict[str, str], key: str, params: dict[str, Any], *, korean_text: bool) -> str:
    return table[key].format(**{name: _value(v, korean_text) for name, v in params.items()})


def _value(value: Any, korean_text: bool) -> Any:
    if isinstance(value, Message):
        return value.ko() if korean_text else str.__str__(value)
    if isinstance(value, Seq):
        return value.sep.join(str(_value(v, korean_text)) for v in value.items)
    return value
