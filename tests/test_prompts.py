"""The seed's SQL-bot prompt, byte for byte (예제 6.2 of the seed text)."""

from __future__ import annotations

from kosql.prompts import build_prompt, make_chat_messages, make_prompt, make_training_text

# The seed's make_prompt body, as the f-string in its listing evaluates (four-space indents).
GOLDEN = (
    "당신은 SQL을 생성하는 SQL 봇입니다. DDL의 테이블을 활용한 Question을 해결할 수 있는 SQL 쿼리를 생성하세요.\n"
    "\n"
    "    ### DDL:\n"
    "    CREATE TABLE messages (id INT);\n"
    "\n"
    "    ### Question:\n"
    "    messages 테이블에서 모든 데이터 조회해 줘\n"
    "\n"
    "    ### SQL:\n"
    "    "
)


def test_seed_prompt_golden() -> None:
    got = make_prompt("CREATE TABLE messages (id INT);", "messages 테이블에서 모든 데이터 조회해 줘")
    assert got.encode("utf-8") == GOLDEN.encode("utf-8")


def test_training_text_appends_answer_and_eos() -> None:
    text = make_training_text("CREATE TABLE t (a INT);", "질문", "SELECT a FROM t;", "</s>")
    assert text.endswith("### SQL:\n    SELECT a FROM t;</s>")


def test_chat_messages_wrap_same_text() -> None:
    msgs = make_chat_messages("DDL", "Q", "SELECT 1;")
    assert [m["role"] for m in msgs] == ["system", "user", "assistant"]
    assert "SQLite" in msgs[0]["content"]
    assert msgs[1]["content"] == make_prompt("DDL", "Q").rstrip() and msgs[2]["content"] == "SELECT 1;"


class _Tok:
    def apply_chat_template(self, conversation: object, **kwargs: object) -> str:
        assert kwargs["add_generation_prompt"] is True
        msgs = conversation  # type: ignore[assignment]
        return "<system>" + msgs[0]["content"] + "<user>" + msgs[1]["content"] + "<assistant>"  # type: ignore[index]


def test_chat_format_uses_tokenizer_template() -> None:
    out = build_prompt("DDL", "Q", fmt="chat", tokenizer=_Tok())
    assert out.startswith("<system>당신은 SQLite") and "<user>당신은 SQL을" in out and out.endswith("<assistant>")


def test_compact_format_is_the_seed_prompt_with_one_line_tables() -> None:
    from kosql.prompts import uses_bos

    ddl = "CREATE TABLE messages (\n  id INT PRIMARY KEY AUTO_INCREMENT,\n  body VARCHAR(200) NOT NULL\n);"
    got = build_prompt(ddl, "메시지 수는?", "compact")
    assert got == make_prompt("CREATE TABLE messages (id INT PRIMARY KEY, body VARCHAR);", "메시지 수는?")
    assert uses_bos("compact") and uses_bos("seed") and not uses_bos("chat")
