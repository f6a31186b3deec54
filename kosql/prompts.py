"""The SQL-bot prompt and its chat variant, and the judge prompt.

All prompt text of the project lives in this module.

The default template is the seed's ``make_prompt`` (예제 6.2) reproduced byte for byte: the seed
writes the f-string inside an indented function body, so every line after the instruction starts
with four spaces, and the SQL follows ``### SQL:`` on the next line after those four spaces.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal, Protocol

PromptFormat = Literal["seed", "compact", "chat"]
PROMPT_FORMATS: tuple[str, ...] = ("seed", "compact", "chat")

SQL_BOT_INSTRUCTION = (
    "당신은 SQL을 생성하는 SQL 봇입니다. DDL의 테이블을 활용한 Question을 해결할 수 있는 SQL 쿼리를 생성하세요."
)

SEED_PROMPT_TEMPLATE = (
    SQL_BOT_INSTRUCTION
    + "\n\n    ### DDL:\n    {ddl}\n\n    ### Question:\n    {question}\n\n    ### SQL:\n    {query}"
)

# The chat variant sends the same text, without the trailing answer slot, as the user message,
# after a system message that names the SQL dialect the answers run on (chat models otherwise write
# MySQL: DATE_SUB, CURDATE) and asks for the SQL alone.
CHAT_USER_TEMPLATE = SEED_PROMPT_TEMPLATE
CHAT_SYSTEM_MESSAGE = "당신은 SQLite 전문가입니다. 질문에 답하는 SQLite 쿼리 하나를 SQLite 문법으로, SQL만 답하세요."

# Strings after which a generation is over: the seed's base model keeps going with "### SQL 봇:".
STOP_STRINGS: tuple[str, ...] = (";", "###", "\n\n\n")

JUDGE_PROMPT_TEMPLATE = (
    'Based on below DDL and Question, evaluate gen_sql can resolve Question. If gen_sql and gt_sql\n'
    'do equal job, return "yes" else return "no". Output JSON Format: {{"resolve_yn": ""}}\n'
    "\n"
    "DDL: {context}\n"
    "Question: {question}\n"
    "gt_sql: {answer}\n"
    "gen_sql: {gen_sql}"
)

# `kosql data clean --judge-model`: does a training row's SQL answer its question? ({answer} is the
# row's SQL, {gen_sql} too, so the template fills like the judge's; literal braces doubled.)
DATA_JUDGE_PROMPT_TEMPLATE = (
    'Based on below DDL and Question, evaluate whether SQL correctly answers Question on that schema.\n'
    'If it does, return "yes", else return "no" with a one-sentence reason.\n'
    'Output JSON Format: {{"resolve_yn": "", "reason": ""}}\n'
    "\n"
    "DDL: {context}\n"
    "Question: {question}\n"
    "SQL: {gen_sql}"
)


class ChatTokenizer(Protocol):
    """The part of a Hugging Face tokenizer that the chat format needs."""

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any: ...


def make_prompt(ddl: str, question: str, query: str = "") -> str:
    """The seed's ``make_prompt(ddl, question, query='')``, byte for byte."""
    return SEED_PROMPT_TEMPLATE.format(ddl=ddl, question=question, query=query)


FOLLOWUP_NOTE = ("(참고: 이전에 만든 SQL `{sql}` 은 데이터베이스에서 실패했습니다: {error}. "
                 "실제 테이블과 컬럼: {columns}. 이 이름만 사용해 다시 작성하세요.)")


def followup_question(question: str, sql: str, error: str, columns: dict[str, list[str]]) -> str:
    """The question of the one retry after an unknown column or table: the question, then the failed
    SQL, the database's error and the real columns (``{table: [column, ...]}``), in the question's slot
    of whatever prompt format the model was trained with."""
    listed = "; ".join(f"{table}({', '.join(cols)})" for table, cols in columns.items())
    note = FOLLOWUP_NOTE.format(sql=" ".join(sql.split()), error=" ".join(str(error).split()), columns=listed)
    return f"{question}\n    {note}"


def make_training_text(ddl: str, question: str, answer: str, eos_token: str = "") -> str:
    """Training text: prompt + answer + EOS (the EOS teaches the model to stop)."""
    return make_prompt(ddl, question, answer) + eos_token


def make_chat_messages(ddl: str, question: str, answer: str | None = None) -> list[dict[str, str]]:
    """The same text as chat messages: system = the dialect, user = the prompt without an answer,
    assistant = SQL."""
    messages = [{"role": "system", "content": CHAT_SYSTEM_MESSAGE},
                {"role": "user", "content": make_prompt(ddl, question).rstrip()}]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


def render_chat_prompt(tokenizer: ChatTokenizer, ddl: str, question: str) -> str:
    """The chat-template prompt string up to where the assistant's answer starts."""
    text = tokenizer.apply_chat_template(
        make_chat_messages(ddl, question), tokenize=False, add_generation_prompt=True
    )
    return str(text)


def build_prompt(
    ddl: str, question: str, fmt: str = "seed", tokenizer: ChatTokenizer | None = None
) -> str:
    """The generation prompt in format ``fmt``.

    'seed' is the seed's prompt with the DDL as given; 'compact' is the same prompt with the schema
    rendered one line per table (:func:`kosql.data.ddl_compact.compact_ddl`, ~half the tokens);
    'chat' wraps the seed prompt in the tokenizer's chat template (needs a tokenizer).
    """
    if fmt == "seed":
        return make_prompt(ddl, question)
    if fmt == "compact":
        from kosql.data.ddl_compact import compact_ddl

        return make_prompt(compact_ddl(ddl), question)
    if fmt == "chat":
        if tokenizer is None:
            raise ValueError("the chat prompt format needs a tokenizer with a chat template")
        return render_chat_prompt(tokenizer, ddl, question)
    raise ValueError(f"unknown prompt format {fmt!r}; choose one of {', '.join(PROMPT_FORMATS)}")


def make_judge_prompt(context: str, question: str, answer: str, gen_sql: str,
                      template: str = JUDGE_PROMPT_TEMPLATE) -> str:
    """The seed's GPT-4 judge prompt (sent as the system message)."""
    return template.format(context=context, question=question, answer=answer, gen_sql=gen_sql)


def uses_bos(fmt: str) -> bool:
    """Whether the tokenizer should add its special tokens to a prompt of format ``fmt`` (the chat
    template already holds them)."""
    return fmt != "chat"


def prompt_hash(fmt: str = "seed") -> str:
    """A short hash of the prompt template, recorded in run manifests."""
    text = SEED_PROMPT_TEMPLATE + "|" + fmt
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
