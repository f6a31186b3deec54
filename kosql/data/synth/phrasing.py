"""Several Korean phrasings of one question: endings, register, synonyms, values and numbers.

:func:`phrasings` rewrites a template's question without changing what it asks:

- the request at the end in another register: informal (보여줘, 알려 줄래?), polite (-요, 주세요),
  formal (-습니까, 주십시오) or a bare noun phrase ("서울 고객 이름 조회");
- synonyms (가장 -> 제일, 모든 -> 전체) and a few English words users mix in (top 5, count, desc);
- values without the quotes users rarely type (``'서울'`` -> 서울), numbers as ``10,000``, ``1만`` or ``9만 5천``,
  ISO dates as ``2023년 3월 5일``.

Quoted values keep their exact text, so the gold SQL's literals still match the question.
"""

from __future__ import annotations

import random
import re

from kosql.data.synth.korean import josa

_REQUEST = ("보여줘", "보여주세요", "알려줘", "알려주세요", "조회해 줘", "조회해줘", "조회해 주세요", "찾아줘",
            "출력해 줘", "출력해줘", "뽑아줘", "나열해줘", "나열해 주세요", "검색해 줘", "구해줘", "구해 주세요",
            "계산해줘")
_REQ_RE = re.compile(r"^(?P<obj>.+?)(?P<p>을|를) (?P<verb>" + "|".join(map(re.escape, _REQUEST)) + r")$")
_REGISTERS: dict[str, tuple[str, ...]] = {
    "informal": ("{o} 보여줘", "{o} 알려줘", "{o} 알려 줄래?", "{o} 보여 줘", "{o} 찾아 줘", "{o} 뽑아 줘"),
    "polite": ("{o} 알려주세요", "{o} 보여 주실래요?", "{o} 조회해 주세요", "{o} 알려 주시겠어요?", "{o} 부탁해요"),
    "formal": ("{o} 알려 주시겠습니까?", "{o} 조회해 주십시오", "{o} 보여 주십시오", "{o} 확인하고 싶습니다"),
}
_NOUN = ("{b} 조회", "{b}", "{b} 좀", "{b} 알려줘", "{b} 보여줘")
# (ending, alternatives) for questions that end in a question form
_QUESTION_ENDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("무엇인가요?", ("뭐야?", "무엇입니까?", "뭐예요?", "뭔가요?")),
    ("뭐야?", ("무엇인가요?", "무엇입니까?", "뭐지?")),
    ("얼마인가요?", ("얼마야?", "얼마입니까?", "얼마예요?", "얼마지?")),
    ("얼마야?", ("얼마인가요?", "얼마입니까?")),
    ("누구인가요?", ("누구야?", "누구입니까?", "누구예요?")),
    ("누구야?", ("누구인가요?", "누구입니까?")),
    ("있어?", ("있나요?", "있습니까?")),
    ("있나요?", ("있어?", "있습니까?")),
    ("궁금해요", ("궁금합니다", "궁금해", "알고 싶어요")),
)
_SYNONYMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("가장 ", ("제일 ", "가장 ")), ("모든 ", ("전체 ", "모든 ")), ("중복 없이", ("중복 제거해서", "중복 없이")),
    ("내림차순으로", ("desc로", "큰 값부터", "내림차순으로")), ("오름차순으로", ("asc로", "작은 값부터", "오름차순으로")),
    (" 개수", (" count", " 개수", " 수")), ("목록을", ("리스트를", "목록을")), ("평균 ", ("평균 ", "average ")),
    ("전부 ", ("다 ", "모두 ", "전부 ")), ("데이터", ("데이터", "레코드", "행")),
)
_QUOTED = re.compile(r"'((?:[^']|'')*)'")
# A number of 4-9 digits standing alone as a value; not digits inside a name ("table_1_10015132_11", its
# Korean rendering "table 1 10015132 11", "2024년") nor a part of a longer number.
_BIG_NUMBER = re.compile(r"(?<![\w.,'\-:])(?<!\d )(\d{4,9})(?![\w.,'\-:]| \d)")
_ISO = re.compile(r"'(\d{4})-(\d{2})-(\d{2})'(?=부터|까지|에서| 이후| 이전| 사이|인)")


def _ending(q: str, rng: random.Random) -> str:
    m = _REQ_RE.match(q)
    if m:
        obj = m.group("obj")
        if rng.random() < 0.25:
            return rng.choice(_NOUN).format(b=obj)
        register = rng.choice(tuple(_REGISTERS))
        return rng.choice(_REGISTERS[register]).format(o=josa(obj, "을"))
    for end, alts in _QUESTION_ENDS:
        if q.endswith(end):
            return q[: -len(end)] + rng.choice(alts)
    for end in ("인가요?", "이야?", "야?"):
        if q.endswith(end) and len(q) > len(end):
            stem = q[: -len(end)]
            batchim = josa(stem, "이").endswith("이")
            alts = ("인가요?", "이야?", "입니까?", "이에요?") if batchim else ("인가요?", "야?", "입니까?", "예요?")
            return stem + rng.choice(alts)
    return q


def _synonyms(q: str, rng: random.Random) -> str:
    for word, alts in _SYNONYMS:
        if word in q and rng.random() < 0.5:
            q = q.replace(word, rng.choice(alts), 1)
    m = re.search(r"상위 (\d+)(개|명|건)", q)
    if m and rng.random() < 0.3:
        q = q.replace(m.group(0), f"top {m.group(1)}", 1)
    return q


def _unquote_value(m: re.Match[str], rng: random.Random, mode: str) -> str:
    text = m.group(1).replace("''", "'")
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return text
    if mode == "bare" and text.strip() == text and text and "'" not in text:
        return text
    if mode == "curly":
        return f"“{text}”"
    if mode == "double":
        return f'"{text}"'
    return m.group(0)


def _values(q: str, rng: random.Random) -> str:
    if rng.random() < 0.3:
        q = _ISO.sub(lambda m: f"{m.group(1)}년 {int(m.group(2))}월 {int(m.group(3))}일", q)
    mode = rng.choices(("keep", "bare", "curly", "double"), weights=(4, 5, 1, 1))[0]
    q = _QUOTED.sub(lambda m: _unquote_value(m, rng, mode), q)
    if rng.random() < 0.35:
        q = _BIG_NUMBER.sub(lambda m: _number(int(m.group(1)), rng), q)
    return q


def _number(n: int, rng: random.Random) -> str:
    if n >= 10000 and n % 1000 == 0 and rng.random() < 0.6:
        man, rest = divmod(n, 10000)
        return f"{man}만" + (f" {rest // 1000}천" if rest else "")
    if n % 1000 == 0 and n < 10000 and rng.random() < 0.4:
        return f"{n // 1000}천"
    return f"{n:,}"


def phrasing(question: str, rng: random.Random) -> str:
    """One rewrite of ``question`` (possibly the same text)."""
    q = question
    if rng.random() < 0.8:
        q = _ending(q, rng)
    if rng.random() < 0.6:
        q = _synonyms(q, rng)
    return _values(q, rng)


def phrasings(question: str, rng: random.Random, n: int) -> list[str]:
    """Up to ``n`` different phrasings of ``question``; the first keeps its quoted values."""
    first = question
    out = [first]
    tries = 0
    while len(out) < n and tries < 6 * n:
        tries += 1
        q = phrasing(question, rng)
        if q not in out:
            out.append(q)
    if rng.random() < 0.5 and len(out) > 1:  # the template's own text is not always the first
        out[0], out[1] = out[1], out[0]
    return out
