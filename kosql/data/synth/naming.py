"""Identifier words and styles: split any identifier into words, read it in Korean, write it in a style.

- :func:`split_words` reads ``order_date``, ``orderDate``, ``OrderDate``, ``ORDER_DATE`` alike.
- :func:`korean_name` is the readable fallback of a name that has no comment and no glossary entry:
  the identifier itself when it is Korean, else its words through a small dictionary of common
  schema words (``order_date`` -> ``주문 날짜``); unknown words stay as they are.
- :func:`style_ident` writes English words in one naming style (snake, camel, Pascal, UPPER,
  abbreviated); the generator of :mod:`kosql.data.synth.anyschema` picks one per schema.
"""

from __future__ import annotations

import re

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
HANGUL = re.compile(r"[\uac00-\ud7a3]")

# common English schema words -> Korean (nouns as Korean schemas name columns)
EN_KO: dict[str, str] = {
    "id": "ID", "no": "번호", "num": "번호", "number": "번호", "code": "코드", "name": "이름",
    "title": "제목", "type": "유형", "kind": "종류", "category": "카테고리", "status": "상태",
    "state": "상태", "date": "날짜", "time": "시간", "at": "일시", "day": "일", "year": "연도",
    "month": "월", "created": "생성", "updated": "수정", "deleted": "삭제", "start": "시작", "end": "종료",
    "user": "사용자", "users": "사용자", "member": "회원", "customer": "고객", "client": "고객",
    "employee": "직원", "staff": "직원", "manager": "관리자", "student": "학생", "teacher": "교사",
    "player": "선수", "team": "팀", "coach": "코치", "match": "경기", "game": "게임", "season": "시즌",
    "score": "점수", "goal": "골", "goals": "골", "point": "포인트", "points": "득점", "rank": "순위",
    "position": "포지션", "height": "키", "weight": "몸무게", "age": "나이", "birth": "출생",
    "gender": "성별", "email": "이메일", "phone": "전화번호", "address": "주소", "city": "도시",
    "country": "국가", "region": "지역", "nationality": "국적", "zip": "우편번호", "product": "상품",
    "item": "아이템", "order": "주문", "orders": "주문", "price": "가격", "amount": "금액",
    "total": "총", "quantity": "수량", "qty": "수량", "stock": "재고", "cost": "비용", "fee": "요금",
    "salary": "급여", "budget": "예산", "balance": "잔액", "payment": "결제", "paid": "결제",
    "discount": "할인", "rate": "비율", "rating": "평점", "review": "리뷰", "comment": "댓글",
    "description": "설명", "note": "메모", "memo": "메모", "content": "내용", "message": "메시지",
    "text": "텍스트", "count": "수", "cnt": "수", "level": "레벨", "grade": "등급", "class": "클래스",
    "department": "부서", "dept": "부서", "company": "회사", "store": "매장", "shop": "상점",
    "branch": "지점", "warehouse": "창고", "book": "도서", "author": "저자", "publisher": "출판사",
    "genre": "장르", "movie": "영화", "film": "영화", "director": "감독", "actor": "배우",
    "song": "노래", "album": "앨범", "artist": "아티스트", "singer": "가수", "episode": "에피소드",
    "show": "프로그램", "channel": "채널", "views": "조회수", "likes": "좋아요 수", "event": "행사",
    "hotel": "호텔", "room": "객실", "reservation": "예약", "booking": "예약", "flight": "항공편",
    "airport": "공항", "seat": "좌석", "seats": "좌석 수", "ticket": "티켓", "course": "강의",
    "subject": "과목", "exam": "시험", "school": "학교", "hospital": "병원", "doctor": "의사",
    "patient": "환자", "visit": "방문", "account": "계좌", "loan": "대출", "card": "카드",
    "transaction": "거래", "project": "프로젝트", "task": "작업", "log": "로그", "logs": "로그",
    "is": "", "has": "", "active": "활성", "enabled": "사용", "verified": "인증", "open": "영업",
    "first": "첫", "last": "마지막", "login": "로그인", "joined": "가입", "join": "가입",
    "hire": "입사", "hired": "입사", "release": "발매", "released": "출시", "published": "출간",
    "due": "마감", "owner": "소유자", "parent": "상위", "width": "너비", "length": "길이",
    "duration": "재생 시간", "minutes": "분", "capacity": "정원", "area": "면적", "population": "인구",
    "temperature": "기온", "station": "역", "line": "노선", "vehicle": "차량", "car": "자동차",
    "model": "모델", "brand": "브랜드", "maker": "제조사", "pet": "반려동물", "species": "종",
    "recipe": "레시피", "username": "사용자 이름", "nickname": "닉네임", "lastname": "성", "firstname": "이름", "calories": "칼로리", "stadium": "경기장", "venue": "장소", "location": "위치",
    "place": "장소", "award": "상", "winner": "우승자", "result": "결과", "party": "정당",
    "candidate": "후보", "votes": "득표수", "district": "선거구", "tag": "태그", "url": "URL",
}
# multi-word names read as one Korean word
EN_KO_PHRASES: dict[tuple[str, ...], str] = {
    ("created", "at"): "생성일시", ("updated", "at"): "수정일시", ("deleted", "at"): "삭제일시",
    ("birth", "date"): "생년월일", ("date", "of", "birth"): "생년월일", ("first", "name"): "이름",
    ("last", "name"): "성", ("full", "name"): "이름", ("user", "name"): "사용자 이름",
    ("zip", "code"): "우편번호", ("phone", "number"): "전화번호", ("unit", "price"): "단가",
    ("joined", "at"): "가입일", ("join", "date"): "가입일", ("hire", "date"): "입사일",
    ("order", "date"): "주문일", ("release", "date"): "발매일", ("due", "date"): "마감일",
    ("start", "date"): "시작일", ("end", "date"): "종료일", ("last", "login"): "마지막 로그인",
}

# English word -> its common abbreviation in schemas
ABBREV: dict[str, str] = {
    "quantity": "qty", "amount": "amt", "number": "no", "description": "desc_text", "customer": "cust",
    "product": "prod", "department": "dept", "employee": "emp", "category": "cat", "address": "addr",
    "date": "dt", "count": "cnt", "price": "prc", "total": "tot", "message": "msg", "reservation": "rsv",
    "transaction": "txn", "information": "info", "manager": "mgr", "average": "avg", "temperature": "temp",
    "organization": "org", "identifier": "id", "position": "pos", "player": "plyr", "season": "ssn",
    "balance": "bal", "account": "acct", "phone": "tel", "picture": "pic", "minimum": "min",
    "maximum": "max", "status": "stat", "registration": "reg", "reference": "ref", "score": "scr",
}

STYLES: tuple[str, ...] = ("snake", "snake", "snake", "camel", "camel", "pascal", "upper", "abbrev")


def split_words(identifier: str) -> list[str]:
    """Lower-case words of an ASCII identifier in any style; a Korean identifier is one word."""
    if HANGUL.search(identifier):
        return [identifier]
    words: list[str] = []
    for part in re.split(r"[^A-Za-z0-9]+", identifier):
        words.extend(w.lower() for w in _CAMEL.findall(part))
    return words


def singular(word: str) -> str:
    """A simple English singular (``categories`` -> ``category``, ``boxes`` -> ``box``)."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ses", "xes", "ches", "shes")) and len(word) > 4:
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def plural(word: str) -> str:
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def korean_name(identifier: str) -> str:
    """A readable Korean name for ``identifier`` (itself when it is already Korean)."""
    if HANGUL.search(identifier):
        return identifier
    words = split_words(identifier)
    if not words:
        return identifier
    out: list[str] = []
    i = 0
    while i < len(words):
        for size in (3, 2):
            key = tuple(words[i:i + size])
            if len(key) == size and key in EN_KO_PHRASES:
                out.append(EN_KO_PHRASES[key])
                i += size
                break
        else:
            word = words[i]
            ko = EN_KO.get(word, EN_KO.get(singular(word), word))
            if ko:
                out.append(ko)
            i += 1
    text = " ".join(out).strip()
    return text or identifier


def style_ident(words: list[str] | tuple[str, ...], style: str) -> str:
    """English ``words`` written in ``style`` (snake, camel, pascal, upper, abbrev)."""
    ws = [w for w in words if w]
    if style == "abbrev":
        ws = [ABBREV.get(w, w) for w in ws]
        return "_".join(ws)
    if style == "camel":
        return ws[0] + "".join(w.capitalize() for w in ws[1:])
    if style == "pascal":
        return "".join(w.capitalize() for w in ws)
    if style == "upper":
        return "_".join(ws).upper()
    return "_".join(ws)
