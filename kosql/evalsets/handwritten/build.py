"""Build the SQLite databases of the hand-written Korean dev set (``questions.jsonl`` beside this file).

Six small databases, none of them a domain of kosql's bundled generator, in different naming styles:
``music_stream`` (snake_case, foreign keys), ``company_club`` (Korean table and column names with
spaces, double-quoted, no keys between the tables), ``carRental`` (camelCase, foreign keys),
``air_quality`` (abbreviations, no foreign keys), ``pet_shelter`` (PascalCase, foreign keys) and
``card_expense`` (one upper-case table, Korean enterprise abbreviations). Every row comes from a fixed
seed, so a build is the same on every machine.

Run: ``python kosql/evalsets/handwritten/build.py OUT_DIR`` writes ``OUT_DIR/<db_id>.sqlite`` for each
database and ``OUT_DIR/questions.jsonl`` (the questions with ``db_path`` relative to ``OUT_DIR``).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
QUESTIONS = HERE / "questions.jsonl"

SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍전고문양손배백허남심노하곽성차주우구민유나진지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용"
GIVEN = ("민준 서연 도윤 지우 하준 서윤 은우 하은 지호 수아 예준 지민 현우 채원 준서 다은 건우 유진 우진 소율 "
         "민서 태윤 가은 시우 예린 주원 윤서 승현 나연 재희 동현 수빈 영호 미경 성민 혜진 정훈 은지 상우 보람").split()
CITIES = ["서울", "부산", "대구", "인천", "광주", "대전", "울산", "수원", "성남", "고양", "창원", "전주", "청주", "제주"]


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES[:20]) + rng.choice(GIVEN)


def day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def phone(rng: random.Random) -> str:
    return f"010-{rng.randrange(1000, 10000)}-{rng.randrange(1000, 10000)}"


# --- music_stream: snake_case, foreign keys -----------------------------------------------------

MUSIC_DDL = """CREATE TABLE artists (
  artist_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  debut_year INTEGER,
  agency TEXT,
  genre TEXT,
  member_count INTEGER
);
CREATE TABLE albums (
  album_id INTEGER PRIMARY KEY,
  artist_id INTEGER NOT NULL REFERENCES artists(artist_id),
  title TEXT NOT NULL,
  release_date DATE,
  album_type TEXT
);
CREATE TABLE tracks (
  track_id INTEGER PRIMARY KEY,
  album_id INTEGER NOT NULL REFERENCES albums(album_id),
  title TEXT NOT NULL,
  duration_sec INTEGER,
  is_title INTEGER DEFAULT 0,
  explicit INTEGER DEFAULT 0
);
CREATE TABLE listeners (
  listener_id INTEGER PRIMARY KEY,
  nickname TEXT,
  birth_year INTEGER,
  city TEXT,
  plan TEXT,
  joined_on DATE
);
CREATE TABLE plays (
  play_id INTEGER PRIMARY KEY,
  listener_id INTEGER REFERENCES listeners(listener_id),
  track_id INTEGER REFERENCES tracks(track_id),
  played_at DATETIME,
  device TEXT,
  skipped INTEGER
);"""

ARTISTS = [("새벽별", 2016, "하늘엔터", "발라드", 1), ("블루문", 2019, "스타라인", "댄스", 5),
           ("NOVA", 2021, "스타라인", "댄스", 4), ("오렌지카운티", 2014, None, "인디", 3),
           ("김하람", 2018, "소리뮤직", "R&B", 1), ("파도소리", 2012, None, "록", 4),
           ("LUNA X", 2022, "하늘엔터", "힙합", 1), ("이서진밴드", 2010, "소리뮤직", "록", 5),
           ("달빛요정", 2020, None, "어쿠스틱", 2), ("제이든 박", 2017, "스타라인", "힙합", 1)]
ALBUM_WORDS = ["첫 페이지", "Blue Hour", "여름의 끝", "Signal", "밤산책", "Gravity", "온도", "새벽 세 시", "Neon",
               "우리의 계절", "Runaway", "물결", "Echo", "별빛 정거장", "파란 방", "Daydream", "겨울 편지", "Orbit",
               "안녕, 서울", "Moonwalk", "숨", "Paradise", "바람의 노래", "Static", "Home", "기억의 조각"]
TRACK_WORDS = ["너에게", "Falling", "여름비", "Stay", "한강", "불꽃놀이", "Lights", "그림자", "Tonight", "편지",
               "Runway", "첫눈", "Ocean", "골목길", "Fever", "달리기", "Paper Plane", "노을", "Sugar", "소나기",
               "Mirror", "창문", "Velvet", "꿈속에서", "Highway", "봄날", "Crush", "시간여행", "Golden", "손편지",
               "Wave", "비밀", "Rewind", "새벽", "Heartbeat", "오늘도", "Shine", "고백", "Satellite", "자장가"]


def fill_music(con: sqlite3.Connection, rng: random.Random) -> None:
    con.executemany("INSERT INTO artists VALUES (?,?,?,?,?,?)", [(i + 1, *a) for i, a in enumerate(ARTISTS)])
    albums: list[tuple[Any, ...]] = []
    tracks: list[tuple[Any, ...]] = []
    words = ALBUM_WORDS[:]
    rng.shuffle(words)
    for artist_id, (_, debut, *_rest) in enumerate(ARTISTS, start=1):
        for _ in range(rng.choice([2, 2, 3])):
            released = day(rng, date(max(debut, 2019), 1, 1), date(2025, 6, 30))
            kind = rng.choice(["정규", "미니", "미니", "싱글"])
            albums.append((len(albums) + 1, artist_id, words.pop(), released.isoformat(), kind))
    for album in albums:
        n = {"정규": rng.randint(9, 12), "미니": rng.randint(4, 6), "싱글": rng.randint(1, 2)}[album[4]]
        names = rng.sample(TRACK_WORDS, n)
        for k, name in enumerate(names):
            tracks.append((len(tracks) + 1, album[0], name, rng.randint(150, 290), int(k == 0), int(rng.random() < 0.1)))
    con.executemany("INSERT INTO albums VALUES (?,?,?,?,?)", albums)
    con.executemany("INSERT INTO tracks VALUES (?,?,?,?,?,?)", tracks)
    listeners = []
    for i in range(1, 161):
        nick = rng.choice(["music", "lover", "dj", "sky", "mint", "cat", "night", "sunny"]) + str(rng.randint(1, 999))
        plan = rng.choices(["free", "premium", "family"], [5, 3, 2])[0]
        listeners.append((i, nick, rng.randint(1965, 2008), rng.choice(CITIES), plan,
                          day(rng, date(2023, 1, 1), date(2025, 6, 30)).isoformat()))
    con.executemany("INSERT INTO listeners VALUES (?,?,?,?,?,?)", listeners)
    weights = [rng.paretovariate(1.2) for _ in tracks]
    plays = []
    for i in range(1, 2401):
        listener = rng.choice(listeners)
        track = rng.choices(tracks, weights)[0]
        start = max(date.fromisoformat(listener[5]), date.fromisoformat(albums[track[1] - 1][3]))
        when = datetime.combine(day(rng, start, max(start, date(2025, 9, 30))), datetime.min.time())
        when += timedelta(minutes=rng.randrange(24 * 60))
        plays.append((i, listener[0], track[0], when.strftime("%Y-%m-%d %H:%M:%S"),
                      rng.choices(["mobile", "pc", "speaker", "car"], [6, 2, 1, 1])[0], int(rng.random() < 0.15)))
    con.executemany("INSERT INTO plays VALUES (?,?,?,?,?,?)", plays)


# --- company_club: Korean identifiers with spaces, no keys between tables ---------------------

CLUB_DDL = """CREATE TABLE "동호회 회원 명부" (
  "회원 번호" INTEGER PRIMARY KEY,
  "이름" TEXT,
  "소속 부서" TEXT,
  "직급" TEXT,
  "동호회" TEXT,
  "가입 일자" TEXT,
  "월 회비" INTEGER,
  "연락처" TEXT,
  "활동 여부" TEXT
);
CREATE TABLE "행사 참석 기록" (
  "기록 번호" INTEGER PRIMARY KEY,
  "회원 번호" INTEGER,
  "행사명" TEXT,
  "행사 날짜" TEXT,
  "참가비" INTEGER
);"""

CLUBS = {"등산": (20000, ["북한산 정기산행", "설악산 1박 산행", "관악산 야간산행"]),
         "풋살": (30000, ["사내 풋살 리그", "풋살 친선전"]),
         "보드게임": (10000, ["보드게임 나이트", "신작 게임 체험회"]),
         "사진": (20000, ["출사 여행", "사진 전시회"]),
         "독서": (10000, ["월간 독서 토론", "작가 초청 강연"]),
         "러닝": (15000, ["한강 10K 러닝", "하프 마라톤 대회"]),
         "밴드": (50000, ["연말 공연", "합주 연습"])}
DEPTS = ["영업1팀", "영업2팀", "개발팀", "인사팀", "재무팀", "마케팅팀", "디자인팀", "품질관리팀"]
RANKS = ["사원", "사원", "대리", "대리", "과장", "차장", "부장"]


def fill_club(con: sqlite3.Connection, rng: random.Random) -> None:
    members = []
    for i in range(1, 91):
        club = rng.choice(list(CLUBS))
        joined = day(rng, date(2023, 1, 1), date(2025, 8, 31))
        members.append((i, person(rng), rng.choice(DEPTS), rng.choice(RANKS), club, joined.isoformat(),
                        CLUBS[club][0], None if rng.random() < 0.12 else phone(rng),
                        "N" if rng.random() < 0.2 else "Y"))
    con.executemany('INSERT INTO "동호회 회원 명부" VALUES (?,?,?,?,?,?,?,?,?)', members)
    records = []
    for i in range(1, 261):
        member = rng.choice(members)
        event = rng.choice(CLUBS[member[4]][1])
        when = day(rng, max(date.fromisoformat(member[5]), date(2023, 3, 1)), date(2025, 9, 30))
        fee = rng.choice([0, 0, 5000, 10000, 15000, 20000, 30000])
        records.append((i, member[0], event, when.isoformat(), fee))
    con.executemany('INSERT INTO "행사 참석 기록" VALUES (?,?,?,?,?)', records)


# --- carRental: camelCase, foreign keys -------------------------------------------------------

CAR_DDL = """CREATE TABLE branches (
  branchId INTEGER PRIMARY KEY,
  branchName TEXT NOT NULL,
  city TEXT,
  openedOn DATE
);
CREATE TABLE vehicles (
  vehicleId INTEGER PRIMARY KEY,
  plateNumber TEXT UNIQUE,
  modelName TEXT,
  maker TEXT,
  fuelType TEXT,
  modelYear INTEGER,
  dailyRate INTEGER,
  branchId INTEGER REFERENCES branches(branchId)
);
CREATE TABLE renters (
  renterId INTEGER PRIMARY KEY,
  fullName TEXT,
  phoneNumber TEXT,
  licenseIssuedOn DATE,
  isMember INTEGER
);
CREATE TABLE rentalAgreements (
  agreementId INTEGER PRIMARY KEY,
  vehicleId INTEGER REFERENCES vehicles(vehicleId),
  renterId INTEGER REFERENCES renters(renterId),
  pickupDate DATE,
  returnDate DATE,
  totalFee INTEGER,
  insuranceType TEXT
);"""

BRANCHES = [("강남역점", "서울", "2018-04-01"), ("김포공항점", "서울", "2016-09-15"), ("제주공항점", "제주", "2015-03-20"),
            ("해운대점", "부산", "2019-07-01"), ("동대구역점", "대구", "2020-02-10"), ("수원역점", "수원", "2021-05-03"),
            ("광주송정역점", "광주", "2022-11-11")]
MODELS = [("아반떼", "현대", "가솔린", 55000), ("쏘나타", "현대", "하이브리드", 75000), ("그랜저", "현대", "가솔린", 110000),
          ("아이오닉 5", "현대", "전기", 95000), ("K5", "기아", "가솔린", 70000), ("쏘렌토", "기아", "디젤", 105000),
          ("카니발", "기아", "디젤", 130000), ("EV6", "기아", "전기", 100000), ("모닝", "기아", "가솔린", 40000),
          ("티볼리", "KGM", "가솔린", 60000), ("Model 3", "테슬라", "전기", 140000), ("GV80", "제네시스", "디젤", 190000)]


def fill_car(con: sqlite3.Connection, rng: random.Random) -> None:
    con.executemany("INSERT INTO branches VALUES (?,?,?,?)", [(i + 1, *b) for i, b in enumerate(BRANCHES)])
    vehicles = []
    for i in range(1, 71):
        name, maker, fuel, rate = rng.choice(MODELS)
        year = rng.randint(2020, 2025)
        plate = f"{rng.randint(10, 399)}{rng.choice('하허호')} {rng.randint(1000, 9999)}"
        vehicles.append((i, plate, name, maker, fuel, year, rate + 5000 * (year - 2022), rng.randint(1, len(BRANCHES))))
    con.executemany("INSERT INTO vehicles VALUES (?,?,?,?,?,?,?,?)", vehicles)
    renters = [(i, person(rng), phone(rng), day(rng, date(1995, 1, 1), date(2024, 12, 31)).isoformat(),
                int(rng.random() < 0.4)) for i in range(1, 141)]
    con.executemany("INSERT INTO renters VALUES (?,?,?,?,?)", renters)
    deals = []
    for i in range(1, 421):
        car = rng.choice(vehicles)
        pickup = day(rng, date(2023, 1, 1), date(2025, 9, 30))
        days = rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 7, 14])
        back = pickup + timedelta(days=days)
        open_deal = pickup > date(2025, 9, 22) and rng.random() < 0.7
        fee = car[6] * days + (0 if days < 7 else -car[6])
        deals.append((i, car[0], rng.choice(renters)[0], pickup.isoformat(), None if open_deal else back.isoformat(),
                      fee, rng.choice(["기본", "기본", "완전자차", "고급자차"])))
    con.executemany("INSERT INTO rentalAgreements VALUES (?,?,?,?,?,?,?)", deals)


# --- air_quality: abbreviations, no foreign keys ------------------------------------------------

AIR_DDL = """CREATE TABLE stn_mst (
  stn_cd TEXT PRIMARY KEY,
  stn_nm TEXT,
  sido_nm TEXT,
  sgg_nm TEXT,
  inst_dt DATE,
  elev_m REAL
);
CREATE TABLE aq_obs (
  obs_id INTEGER PRIMARY KEY,
  stn_cd TEXT,
  obs_dt DATE,
  pm10 INTEGER,
  pm25 INTEGER,
  o3 REAL,
  no2 REAL,
  grd TEXT
);"""

STATIONS = [("S111121", "종로구", "서울", "종로구", "2005-01-01", 38.0), ("S111261", "강남구", "서울", "강남구", "2007-03-01", 32.5),
            ("S111311", "마포구", "서울", "마포구", "2008-06-15", 21.0), ("S221112", "광복동", "부산", "중구", "2006-05-10", 12.0),
            ("S221271", "연산동", "부산", "연제구", "2011-09-01", 40.2), ("S422111", "수창동", "대구", "중구", "2009-04-20", 49.0),
            ("S823671", "신흥동", "인천", "중구", "2012-08-08", 8.5), ("S131111", "인계동", "경기", "수원시", "2010-02-02", 45.3),
            ("S131231", "정자동", "경기", "성남시", "2015-07-07", 60.1), ("S336111", "노은동", "대전", "유성구", "2016-10-10", 55.0),
            ("S534121", "농성동", "광주", "서구", "2013-11-11", 30.0), ("S632141", "이도동", "제주", "제주시", "2019-01-15", 102.4)]


def grade(pm10: int) -> str:
    return "좋음" if pm10 <= 30 else "보통" if pm10 <= 80 else "나쁨" if pm10 <= 150 else "매우나쁨"


def fill_air(con: sqlite3.Connection, rng: random.Random) -> None:
    con.executemany("INSERT INTO stn_mst VALUES (?,?,?,?,?,?)", STATIONS)
    rows: list[tuple[Any, ...]] = []
    d = date(2024, 1, 1)
    while d <= date(2025, 6, 30):
        season = 1.6 if d.month in (1, 2, 3, 4, 12) else 0.8 if d.month in (7, 8, 9) else 1.0
        for code, *_ in STATIONS:
            if rng.random() < 0.03:
                continue  # station down that day
            local = 0.6 if code.startswith("S632") else 1.2 if code.startswith("S422") else 1.0
            pm10 = max(5, int(rng.lognormvariate(3.5, 0.5) * season * local))
            pm25 = max(2, int(pm10 * rng.uniform(0.4, 0.65)))
            o3 = None if rng.random() < 0.05 else round(rng.uniform(0.005, 0.09), 3)
            no2 = None if rng.random() < 0.05 else round(rng.uniform(0.003, 0.06), 3)
            rows.append((len(rows) + 1, code, d.isoformat(), pm10, pm25, o3, no2, grade(pm10)))
        d += timedelta(days=1)
    con.executemany("INSERT INTO aq_obs VALUES (?,?,?,?,?,?,?,?)", rows)


# --- pet_shelter: PascalCase, foreign keys ------------------------------------------------------

PET_DDL = """CREATE TABLE Shelter (
  ShelterID INTEGER PRIMARY KEY,
  Name TEXT NOT NULL,
  Region TEXT,
  Capacity INTEGER,
  Phone TEXT
);
CREATE TABLE Animal (
  AnimalID INTEGER PRIMARY KEY,
  ShelterID INTEGER REFERENCES Shelter(ShelterID),
  Species TEXT,
  Breed TEXT,
  Sex TEXT,
  AgeMonths INTEGER,
  IntakeDate DATE,
  IsNeutered INTEGER,
  Status TEXT
);
CREATE TABLE Adopter (
  AdopterID INTEGER PRIMARY KEY,
  Name TEXT,
  City TEXT,
  BirthYear INTEGER
);
CREATE TABLE Adoption (
  AdoptionID INTEGER PRIMARY KEY,
  AnimalID INTEGER REFERENCES Animal(AnimalID),
  AdopterID INTEGER REFERENCES Adopter(AdopterID),
  AdoptedOn DATE,
  Fee INTEGER
);"""

SHELTERS = [("행복한 발자국 보호소", "경기", 80, "031-555-0101"), ("서울 동물사랑센터", "서울", 120, "02-555-0202"),
            ("부산 해피테일", "부산", 60, "051-555-0303"), ("제주 유기견 쉼터", "제주", 45, "064-555-0404"),
            ("대전 냥이네", "대전", 30, "042-555-0505")]
BREEDS = {"개": ["믹스", "믹스", "진돗개", "푸들", "말티즈", "시바견", "웰시코기", "리트리버"],
          "고양이": ["코리안 숏헤어", "코리안 숏헤어", "페르시안", "러시안 블루", "터키시 앙고라"],
          "토끼": ["롭이어", "라이언헤드"]}


def fill_pet(con: sqlite3.Connection, rng: random.Random) -> None:
    con.executemany("INSERT INTO Shelter VALUES (?,?,?,?,?)", [(i + 1, *s) for i, s in enumerate(SHELTERS)])
    adopters = [(i, person(rng), rng.choice(CITIES), rng.randint(1960, 2003)) for i in range(1, 101)]
    con.executemany("INSERT INTO Adopter VALUES (?,?,?,?)", adopters)
    animals: list[tuple[Any, ...]] = []
    adoptions: list[tuple[Any, ...]] = []
    for i in range(1, 241):
        shelter = rng.randint(1, len(SHELTERS))
        species = "고양이" if shelter == 5 else "개" if shelter == 4 else rng.choices(list(BREEDS), [6, 4, 1])[0]
        intake = day(rng, date(2023, 1, 1), date(2025, 8, 31))
        status = rng.choices(["보호중", "입양완료", "임시보호"], [4, 5, 1])[0]
        adopted = intake + timedelta(days=rng.randint(7, 200))
        if status == "입양완료" and adopted > date(2025, 9, 30):
            status = "보호중"
        animals.append((i, shelter, species, rng.choice(BREEDS[species]), rng.choice("MF"), rng.randint(2, 150),
                        intake.isoformat(), int(rng.random() < 0.6), status))
        if status == "입양완료":
            adoptions.append((len(adoptions) + 1, i, rng.choice(adopters)[0], adopted.isoformat(),
                              rng.choice([0, 50000, 100000, 150000])))
    con.executemany("INSERT INTO Animal VALUES (?,?,?,?,?,?,?,?,?)", animals)
    con.executemany("INSERT INTO Adoption VALUES (?,?,?,?,?)", adoptions)


# --- card_expense: one upper-case table, Korean enterprise abbreviations -----------------------

CARD_DDL = """CREATE TABLE CARD_USE_HIST (
  USE_NO INTEGER PRIMARY KEY,
  EMP_NO TEXT,
  EMP_NM TEXT,
  DEPT_NM TEXT,
  USE_DT DATE,
  MRCHT_NM TEXT,
  USE_CTGR TEXT,
  USE_AMT INTEGER,
  APRV_YN TEXT,
  RMK TEXT
);"""

MERCHANTS = {"식대": ["김밥천국", "본죽", "한솥도시락", "새마을식당", "백채김치찌개"],
             "교통비": ["카카오T", "코레일", "SRT", "티머니"],
             "숙박비": ["신라스테이", "롯데시티호텔", "토요코인"],
             "접대비": ["한우마을", "스시오마카세 겐", "더플레이스"],
             "소모품": ["오피스디포", "다이소", "쿠팡"],
             "도서구입": ["교보문고", "yes24", "알라딘"]}
REMARKS = {"식대": ["야근 식대", "팀 점심"], "교통비": ["출장", "외근"], "숙박비": ["출장"],
           "접대비": ["고객 미팅", "거래처 접대"], "소모품": ["사무용품"], "도서구입": ["직무 교육"]}
AMOUNTS = {"식대": (8000, 60000), "교통비": (3000, 90000), "숙박비": (70000, 220000), "접대비": (80000, 600000),
           "소모품": (5000, 150000), "도서구입": (12000, 80000)}


def fill_card(con: sqlite3.Connection, rng: random.Random) -> None:
    staff = [(f"E{2019000 + i * 7}", person(rng), rng.choice(DEPTS)) for i in range(1, 31)]
    rows = []
    for i in range(1, 601):
        emp = rng.choice(staff)
        ctgr = rng.choices(list(MERCHANTS), [10, 5, 2, 2, 3, 1])[0]
        lo, hi = AMOUNTS[ctgr]
        amount = rng.randrange(lo, hi) // 100 * 100
        used = day(rng, date(2024, 1, 1), date(2025, 9, 30))
        approved = "N" if rng.random() < 0.08 else "Y"
        remark = rng.choice(REMARKS[ctgr]) if rng.random() < 0.35 else None
        rows.append((i, *emp, used.isoformat(), rng.choice(MERCHANTS[ctgr]), ctgr, amount, approved, remark))
    con.executemany("INSERT INTO CARD_USE_HIST VALUES (?,?,?,?,?,?,?,?,?,?)", rows)


SCHEMAS: dict[str, tuple[str, Callable[[sqlite3.Connection, random.Random], None]]] = {
    "music_stream": (MUSIC_DDL, fill_music),
    "company_club": (CLUB_DDL, fill_club),
    "carRental": (CAR_DDL, fill_car),
    "air_quality": (AIR_DDL, fill_air),
    "pet_shelter": (PET_DDL, fill_pet),
    "card_expense": (CARD_DDL, fill_card),
}


def build_db(db_id: str, path: Path) -> None:
    """Write ``db_id``'s database to ``path`` (a fresh file, written whole or not at all)."""
    ddl, fill = SCHEMAS[db_id]
    fd, tmp = tempfile.mkstemp(suffix=".sqlite", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)
    con = sqlite3.connect(tmp)
    try:
        con.executescript(ddl)
        fill(con, random.Random(f"kosql-handwritten:{db_id}"))
        con.commit()
    finally:
        con.close()
    os.replace(tmp, path)


def fingerprint() -> str:
    """Changes whenever this builder or the questions change (names a cache folder)."""
    digest = hashlib.sha256(Path(__file__).read_bytes() + QUESTIONS.read_bytes())
    return digest.hexdigest()[:12]


def read_questions() -> list[dict[str, Any]]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def build(out_dir: str | Path) -> Path:
    """Build every database into ``out_dir`` and write ``out_dir/questions.jsonl`` (each row's
    ``db_path`` relative to it); returns that file. A folder already built by this version is kept."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "questions.jsonl"
    stamp = out / "BUILD"
    if target.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == fingerprint():
        return target
    for db_id in SCHEMAS:
        build_db(db_id, out / f"{db_id}.sqlite")
    rows = [{**row, "db_path": f"{row['db_id']}.sqlite"} for row in read_questions()]
    target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    stamp.write_text(fingerprint() + "\n", encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python kosql/evalsets/handwritten/build.py OUT_DIR", file=sys.stderr)
        return 2
    path = build(args[0])
    print(f"wrote {len(SCHEMAS)} databases and {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
