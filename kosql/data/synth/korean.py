"""Korean phrasing helpers: particles (이/가, 을/를, ...), column/table references, endings."""

from __future__ import annotations

import random

from kosql.data.synth.domains import Column, Table

_DIGIT_BATCHIM = {"0": True, "1": True, "2": False, "3": True, "4": False, "5": False,
                  "6": True, "7": True, "8": True, "9": False}
_DIGIT_RIEUL = {"1", "7", "8"}
_LATIN_VOWEL_END = set("aeiouyrwhsxfzkdAEIOUYRWHSXFZKD")
# English endings read with/without a final consonant: name(네임), phone(폰), type(타입), id(아이디)
_LATIN_ENDINGS = {"id": False, "me": True, "ne": True, "pe": True, "kg": False, "ng": True, "no": False, "le": True}


def _last_sound(word: str) -> tuple[bool, bool]:
    """(has final consonant, final consonant is ㄹ) of the last pronounced character of ``word``."""
    text = word.rstrip()
    if text.endswith(")") and "(" in text:
        text = text[: text.rindex("(")].rstrip()
    text = text.rstrip("'\"%")
    if not text:
        return False, False
    ch = text[-1]
    if "가" <= ch <= "힣":
        jong = (ord(ch) - 0xAC00) % 28
        return jong != 0, jong == 8
    if ch.isdigit():
        return _DIGIT_BATCHIM[ch], ch in _DIGIT_RIEUL
    if ch.isascii() and ch.isalpha():
        tail = text.lower().rsplit("_", 1)[-1]
        for end, value in _LATIN_ENDINGS.items():
            if tail.endswith(end):
                return value, False
        if ch in "lL":
            return True, True
        return ch not in _LATIN_VOWEL_END, False
    return False, False


_PAIRS = {"이": ("이", "가"), "을": ("을", "를"), "은": ("은", "는"), "과": ("과", "와"),
          "이고": ("이고", "고"), "이나": ("이나", "나"), "이라": ("이라", "라")}


def josa(word: str, kind: str) -> str:
    """``word`` followed by the right form of particle ``kind`` ('이', '을', '은', '과', '으로', ...)."""
    batchim, rieul = _last_sound(word)
    if kind == "으로":
        return word + ("으로" if batchim and not rieul else "로")
    with_b, without_b = _PAIRS[kind]
    return word + (with_b if batchim else without_b)


REF_MODES = ("ko", "ko", "ko", "both", "both", "en")


def col_ref(col: Column, mode: str) -> str:
    """A column named by its Korean term, its English name, or both ("이메일(email)")."""
    if mode == "en":
        return col.name
    if mode == "both":
        return f"{col.ko}({col.name})"
    return col.ko


def table_ref(table: Table, mode: str) -> str:
    if mode == "en":
        return f"{table.name} 테이블"
    if mode == "both":
        return f"{table.ko}({table.name})"
    return table.ko


def join_list(words: list[str]) -> str:
    """'A과 B' / 'A, B, C' (no final particle)."""
    if len(words) == 1:
        return words[0]
    if len(words) == 2:
        return f"{josa(words[0], '과')} {words[1]}"
    return ", ".join(words)


LIST_ENDINGS = ("보여줘", "보여주세요", "알려줘", "알려주세요", "조회해 줘", "조회해줘", "조회해 주세요",
                "찾아줘", "출력해 줘", "뽑아줘", "나열해줘", "검색해 줘")
VALUE_ENDINGS = ("알려줘", "알려주세요", "구해줘", "구해 주세요", "계산해줘", "보여줘")


def ending(rng: random.Random, kind: str = "list") -> str:
    return rng.choice(LIST_ENDINGS if kind == "list" else VALUE_ENDINGS)


def ask_object(rng: random.Random, obj: str, kind: str = "list") -> str:
    """'<obj>을 보여줘' or a question form '<obj>은?' / '<obj>은 뭐야?'."""
    r = rng.random()
    if kind == "value" and r < 0.3:
        return rng.choice((josa(obj, "은") + "?", josa(obj, "은") + " 얼마야?", josa(obj, "이") + " 궁금해요."))
    if kind == "list" and r < 0.12:
        return rng.choice((josa(obj, "은") + " 뭐야?", josa(obj, "은") + " 무엇인가요?"))
    return f"{josa(obj, '을')} {ending(rng, kind)}"
