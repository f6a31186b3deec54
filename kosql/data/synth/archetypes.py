"""Table archetypes the schema generator combines: people, products, orders, events, scores, places,
sports, media and more. An archetype is a table *kind*: alternative English and Korean names, the
columns it may have (each with alternative names, a type, a value generator from
:mod:`kosql.data.synth.values` or ``xpool:NAME`` / ``xcat:NAME`` / ``uxpool:NAME`` from
:mod:`kosql.data.synth.pools_any`, and optional question hints), and the archetypes it references.

:func:`all_archetypes` adds one archetype per table of the bundled catalog's training domains (the
held-out domains stay out, so ``bundled:mix`` keeps them unseen) to the hand-written ones below.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from kosql.data.synth.naming import singular, split_words


@dataclass(frozen=True)
class ColSpec:
    key: str
    names: tuple[str, ...]  # English names (snake_case words); the first is the usual one
    ko: tuple[str, ...]  # Korean names; the first is the usual one
    type: str  # INT, DECIMAL(10,2), VARCHAR(n), TEXT, DATE, DATETIME, BOOLEAN
    gen: str
    null: float = 0.0
    label: bool = False
    adn: tuple[str, ...] = ()  # "{v}에서 뛰는": how a question says "this column is v"
    qword: str = ""  # 누구 / 언제 / 어디 / 몇
    yes: str = ""
    no: str = ""
    suffix: str = ""  # unit a Korean header may carry: "(원)", "(cm)"


@dataclass(frozen=True)
class Archetype:
    key: str
    names: tuple[str, ...]  # English table names (singular snake_case)
    ko: tuple[str, ...]
    unit: str  # counter word: 명 / 개 / 건
    columns: tuple[ColSpec, ...]
    parents: tuple[str, ...] = ()  # archetype keys this table references (one key column each)
    rows: tuple[int, int] = (15, 45)
    group: str = ""


def s(key: str, names: str, ko: str, type_: str, gen: str, **kw: object) -> ColSpec:
    """Short constructor: ``names`` and ``ko`` list alternatives separated by '|'."""
    adn = kw.pop("adn", "")
    return ColSpec(key=key, names=tuple(names.split("|")), ko=tuple(ko.split("|")), type=type_, gen=gen,
                   adn=tuple(str(adn).split("|")) if adn else (), **kw)  # type: ignore[arg-type]


def a(key: str, names: str, ko: str, unit: str, *cols: ColSpec, parents: tuple[str, ...] = (),
      rows: tuple[int, int] = (15, 45), group: str = "") -> Archetype:
    return Archetype(key=key, names=tuple(names.split("|")), ko=tuple(ko.split("|")), unit=unit,
                     columns=tuple(cols), parents=parents, rows=rows, group=group or key)


V, N, D, DT, DTM, B, T = "VARCHAR(50)", "INT", "DECIMAL(10,2)", "DATE", "DATETIME", "BOOLEAN", "TEXT"
PERSON = s("name", "name|full_name|player_name", "이름|성명", V, "person", label=True, qword="누구")

HAND_WRITTEN: tuple[Archetype, ...] = (
    a("sports.team", "team|club", "팀|구단", "개",
      s("name", "name|team_name", "팀 이름|팀명|구단명", V, "uxpool:team", label=True),
      s("city", "city|home_city|hometown", "연고지|연고 도시", V, "xcat:city", adn="{v} 연고의|{v}를 연고로 하는"),
      s("league", "league|division", "리그|소속 리그", V, "xcat:league"),
      s("founded", "founded_year|founded", "창단 연도|창단", N, "int:1970:2015", qword="언제"),
      s("stadium", "stadium|home_stadium", "홈 구장|경기장", V, "xpool:stadium", qword="어디"),
      s("coach", "coach|manager_name", "감독|감독 이름", V, "person", qword="누구"), rows=(8, 14), group="sports"),
    a("sports.player", "player|athlete", "선수|플레이어", "명",
      s("name", "name|player_name", "선수 이름|선수명|플레이어", V, "person", label=True, qword="누구"),
      s("number", "jersey_number|number|no", "등번호|No.|번호", N, "int:1:99"),
      s("position", "position|pos", "포지션|위치", V, "xcat:position", adn="{v} 포지션인|{v}로 뛰는"),
      s("nationality", "nationality|country", "국적", V, "xcat:nationality", adn="{v} 국적의|{v} 출신인"),
      s("college", "college|school", "출신 학교|출신 학교/팀|대학", V, "xpool:university",
        adn="{v} 출신인|{v}를 나온|{v}에서 뛰던"),
      s("height", "height_cm|height", "키|신장", N, "int:165:210", suffix="(cm)"),
      s("birth", "birth_date|birthday|dob", "생년월일|생일", DT, "date:1985:2004", qword="언제"),
      s("goals", "goals|points|score", "득점|골", N, "int:0:40"),
      s("salary", "salary|annual_salary", "연봉", N, "int:3000:90000:100", suffix="(만원)"),
      parents=("sports.team",), rows=(25, 50), group="sports"),
    a("sports.match", "match|game|fixture", "경기|매치", "건",
      s("date", "match_date|game_date|played_on", "경기 날짜|경기일", DT, "date:2021:2024", qword="언제"),
      s("venue", "venue|stadium", "경기장|장소", V, "xcat:stadium", qword="어디", adn="{v}에서 열린"),
      s("home", "home_score|score_home", "홈 득점|홈팀 점수", N, "int:0:6"),
      s("away", "away_score|score_away", "원정 득점|원정팀 점수", N, "int:0:6"),
      s("attendance", "attendance|crowd|spectators", "관중 수|관중", N, "int:1500:45000:10", qword="몇"),
      s("round", "round|stage", "라운드|단계", V, "xcat:round"),
      parents=("sports.team",), rows=(25, 50), group="sports"),
    a("sports.tournament", "tournament_result|competition_result", "대회 결과|대회 기록", "건",
      s("tournament", "tournament|competition", "대회|대회명", V, "xcat:tournament"),
      s("year", "year|season", "연도|시즌", N, "int:2010:2024", qword="언제"),
      s("winner", "winner|champion", "우승자|우승", V, "person", qword="누구", adn="{v}가 우승한"),
      s("runner_up", "runner_up|second_place", "준우승자|준우승", V, "person"),
      s("venue", "venue|location", "개최지|장소", V, "xcat:city", qword="어디", adn="{v}에서 열린"),
      s("prize", "prize_money|prize", "상금", N, "int:1000:50000:500", suffix="(만원)"), rows=(15, 30)),
    a("media.artist", "artist|singer|musician", "아티스트|가수|뮤지션", "명",
      s("name", "name|artist_name|stage_name", "이름|활동명|가수 이름", V, "uxpool:artist", label=True),
      s("agency", "agency|label", "소속사|레이블", V, "xcat:label", adn="{v} 소속의|{v}에 속한"),
      s("debut", "debut_year|debut", "데뷔 연도|데뷔", N, "int:1995:2023", qword="언제"),
      s("members", "member_count|members", "멤버 수|인원", N, "int:1:13", qword="몇"), rows=(8, 14), group="music"),
    a("media.album", "album|record", "앨범|음반", "개",
      s("title", "title|album_title|name", "앨범명|제목|앨범 제목", V, "xpool:song", label=True),
      s("released", "release_date|released_on", "발매일|발매 날짜", DT, "date:2010:2024", qword="언제"),
      s("tracks", "track_count|tracks", "수록곡 수|트랙 수", N, "int:1:16"),
      s("sales", "sales|copies_sold", "판매량|판매 수", N, "int:1000:900000:100"),
      s("genre", "genre", "장르", V, "cat:발라드|댄스|힙합|R&B|록|인디"),
      parents=("media.artist",), rows=(20, 40), group="music"),
    a("media.song", "song|track", "노래|곡|수록곡", "곡",
      s("title", "title|song_title|name", "곡명|제목|노래 제목", V, "xpool:song", label=True),
      s("duration", "duration_sec|length_seconds|duration", "재생 시간|길이", N, "int:150:330", suffix="(초)"),
      s("streams", "stream_count|streams|plays", "스트리밍 수|재생 수", N, "int:1000:5000000:100"),
      s("chart", "peak_rank|best_rank|chart_rank", "최고 순위|차트 순위", N, "int:1:100"),
      s("is_title", "is_title_track|title_track", "타이틀곡 여부", B, "bool:0.3", yes="타이틀곡인", no="타이틀곡이 아닌"),
      parents=("media.album",), rows=(30, 60), group="music"),
    a("media.episode", "episode|tv_episode", "에피소드|회차 정보|방송 회차", "개",
      s("show", "show_title|series|program", "프로그램|드라마 제목|시리즈", V, "xcat:tv", adn="{v}의"),
      s("no", "episode_no|episode|ep", "회차|에피소드 번호|화", N, "int:1:24"),
      s("title", "title|episode_title", "부제|제목|에피소드 제목", V, "xpool:song", label=True),
      s("director", "director|directed_by", "연출|감독", V, "person", qword="누구", adn="{v} 감독이 연출한|{v}가 연출한"),
      s("writer", "writer|written_by", "극본|작가|각본", V, "person", qword="누구"),
      s("aired", "air_date|aired_on|broadcast_date", "방영일|방송일", DT, "date:2015:2024", qword="언제"),
      s("rating", "rating|viewership", "시청률", D, "dec:1:25:0.1", suffix="(%)"),
      s("channel", "channel|network|broadcaster", "방송사|채널", V, "xcat:broadcaster", adn="{v}에서 방영된"),
      rows=(20, 40), group="tv"),
    a("media.webtoon", "webtoon|comic", "웹툰|만화", "개",
      s("title", "title|name", "제목|작품명", V, "uxpool:webtoon", label=True),
      s("author", "author|writer", "작가", V, "person", qword="누구", adn="{v} 작가의|{v}가 그린"),
      s("genre", "genre", "장르", V, "xcat:genre"), s("platform", "platform|site", "플랫폼|연재처", V, "xcat:platform",
                                                        adn="{v}에서 연재하는|{v}에 연재 중인"),
      s("episodes", "episode_count|episodes", "연재 회차|회차 수", N, "int:10:600"),
      s("rating", "rating|score", "평점|별점", D, "dec:6:10:0.01"), rows=(7, 7)),
    a("event.festival", "festival|event", "축제|행사", "개",
      s("name", "name|festival_name|title", "축제명|행사명|이름", V, "uxpool:festival", label=True),
      s("region", "province|region", "지역|시도", V, "xcat:province", adn="{v}에서 열리는|{v}의"),
      s("start", "start_date|begins_on", "시작일|개막일", DT, "date:2022:2024", qword="언제"),
      s("days", "duration_days|days", "기간|개최 일수", N, "int:1:14", suffix="(일)"),
      s("visitors", "visitors|visitor_count|attendance", "방문객 수|관람객", N, "int:1000:900000:100", qword="몇"),
      s("fee", "entry_fee|ticket_price|fee", "입장료|참가비", N, "int:0:50000:1000", suffix="(원)"), rows=(10, 10),
      group="event"),
    a("event.attendee", "attendee|participant|visitor", "참가자|참석자|관람객", "명", PERSON,
      s("age", "age", "나이|연령", N, "int:15:75"), s("gender", "gender|sex", "성별", V, "gender"),
      s("city", "city|hometown", "거주지|사는 곳|도시", V, "city", adn="{v}에 사는|{v} 거주"),
      s("registered", "registered_at|signup_date", "등록일|신청일", DT, "date:2022:2024"),
      s("paid", "is_paid|paid", "결제 여부", B, "bool:0.7", yes="결제한", no="결제하지 않은"),
      parents=("event.festival",), rows=(30, 60), group="event"),
    a("score.exam", "exam_result|test_score|score", "시험 결과|성적|점수", "건",
      s("student", "student_name|student|name", "학생 이름|학생|이름", V, "person", qword="누구", label=True),
      s("exam", "exam|exam_type|test", "시험|시험 종류", V, "xcat:exam"),
      s("subject", "subject|course", "과목", V, "xcat:subject", adn="{v} 과목의"),
      s("score", "score|points|mark", "점수", N, "int:30:100"),
      s("grade", "grade|class_year", "학년", N, "int:1:3"),
      s("taken", "exam_date|taken_on", "시험일|응시일", DT, "date:2023:2024", qword="언제"), rows=(30, 60)),
    a("score.election", "election_result|election|candidate_result", "선거 결과|후보|선거", "명",
      s("district", "district|constituency|region", "선거구|지역구", V, "xcat:region", adn="{v}에 출마한|{v}의"),
      s("candidate", "candidate|name|candidate_name", "후보|후보자|현직자", V, "person", label=True, qword="누구"),
      s("party", "party|political_party", "정당|소속 정당", V, "xcat:party", adn="{v} 소속의|{v} 소속인"),
      s("first_elected", "first_elected|first_year", "첫 당선|초선 연도", N, "int:1988:2020", qword="언제"),
      s("votes", "votes|vote_count", "득표수|득표", N, "int:5000:120000:10"),
      s("share", "vote_share|share", "득표율", D, "dec:5:75:0.1", suffix="(%)"),
      s("result", "result|outcome", "결과", V, "xcat:election_result"), rows=(20, 40)),
    a("place.spot", "tourist_spot|attraction|place", "관광지|명소|장소", "곳",
      s("name", "name|spot_name|title", "관광지명|이름|명칭", V, "uxpool:spot", label=True),
      s("region", "province|region|location", "지역|시도|위치", V, "xcat:province", adn="{v}에 있는|{v} 소재", qword="어디"),
      s("category", "category|type", "분류|유형", V, "cat:자연|역사|문화|해변|산|도심"),
      s("visitors", "annual_visitors|visitors", "연간 방문객|방문객 수", N, "int:10000:9000000:1000"),
      s("fee", "admission_fee|fee", "입장료", N, "int:0:20000:500", suffix="(원)"),
      s("opened", "opened_year|since", "개장 연도", N, "int:1950:2020"), rows=(14, 14), group="place"),
    a("place.station", "station|subway_station", "역|지하철역", "개",
      s("name", "name|station_name", "역명|역 이름", V, "uxpool:station", label=True),
      s("line", "line|subway_line", "노선|호선", V, "xcat:subway_line", adn="{v}이 지나는|{v}의"),
      s("daily", "daily_passengers|riders", "일평균 승객|하루 이용객", N, "int:2000:150000:10"),
      s("opened", "opened_on|open_date", "개통일", DT, "date:1974:2020", qword="언제"),
      s("transfer", "is_transfer|transfer", "환승역 여부", B, "bool:0.4", yes="환승역인", no="환승역이 아닌"),
      rows=(12, 12), group="place"),
    a("place.weather", "weather_observation|weather|daily_weather", "날씨 관측|기상 기록|일별 날씨", "건",
      s("city", "city|station|location", "관측 지점|도시|지역", V, "xcat:city", adn="{v}의|{v}에서 관측된", qword="어디"),
      s("date", "obs_date|date|observed_on", "관측일|날짜", DT, "date:2023:2024", qword="언제"),
      s("high", "max_temp|high_temp", "최고 기온", D, "dec:-5:36:0.1", suffix="(℃)"),
      s("low", "min_temp|low_temp", "최저 기온", D, "dec:-15:28:0.1", suffix="(℃)"),
      s("rain", "rainfall_mm|precipitation", "강수량", D, "dec:0:120:0.5", suffix="(mm)"),
      s("sky", "condition|sky", "날씨|하늘 상태", V, "xcat:weather"), rows=(30, 60)),
    a("auto.car", "car|vehicle|car_model", "차량|자동차|차종", "대",
      s("model", "model|model_name|name", "모델명|차종|모델", V, "xpool:car_model", label=True),
      s("brand", "brand|maker|manufacturer", "제조사|브랜드", V, "xcat:car_brand", adn="{v}에서 만든|{v}의"),
      s("fuel", "fuel_type|fuel", "연료|연료 종류", V, "xcat:fuel", adn="{v} 연료를 쓰는"),
      s("year", "model_year|year", "연식|출시 연도", N, "int:2012:2024"),
      s("price", "price|list_price", "가격|출고가", N, "int:1500:12000:10", suffix="(만원)"),
      s("mileage", "mileage_km|mileage", "주행 거리", N, "int:0:200000:100", suffix="(km)"), rows=(25, 45)),
    a("auto.charger", "ev_charger|charging_station|charger", "전기차 충전소|충전기|충전소", "개",
      s("name", "name|station_name", "충전소명|이름", V, "code:충전소-:3", label=True),
      s("district", "district|area", "자치구|구", V, "district", adn="{v}에 있는"),
      s("type", "charger_type|type", "충전 방식|충전기 타입", V, "xcat:charger", adn="{v} 충전이 되는"),
      s("operator", "operator|provider", "운영 기관|운영사", V, "xcat:operator"),
      s("slots", "slot_count|slots", "충전기 수|충전 슬롯", N, "int:1:20"),
      s("installed", "installed_on|install_date", "설치일", DT, "date:2016:2024", qword="언제"), rows=(20, 40)),
    a("life.pet", "pet|animal", "반려동물|동물", "마리",
      s("name", "name|pet_name", "이름|반려동물 이름", V, "xpool:pet_name", label=True),
      s("breed", "breed|species", "품종|견종", V, "xcat:breed", adn="{v} 품종인"),
      s("age", "age|age_years", "나이", N, "int:1:17", suffix="(살)"),
      s("weight", "weight_kg|weight", "몸무게|체중", D, "dec:1:40:0.1", suffix="(kg)"),
      s("adopted", "adopted_on|adoption_date", "입양일", DT, "date:2015:2024", qword="언제"),
      s("neutered", "is_neutered|neutered", "중성화 여부", B, "bool:0.6", yes="중성화한", no="중성화하지 않은"),
      rows=(20, 40), group="pet"),
    a("life.vet_visit", "vet_visit|clinic_visit", "진료 기록|동물병원 방문", "건",
      s("date", "visit_date|visited_on", "진료일|방문일", DT, "date:2022:2024", qword="언제"),
      s("reason", "reason|diagnosis", "진료 사유|진단", V, "cat:예방접종|건강검진|피부염|구토|골절|치과"),
      s("cost", "cost|fee", "진료비|비용", N, "int:10000:500000:1000", suffix="(원)"),
      parents=("life.pet",), rows=(30, 60), group="pet"),
    a("food.recipe", "recipe|dish", "레시피|요리", "개",
      s("name", "name|recipe_name|title", "요리명|레시피 이름|메뉴", V, "uxpool:recipe", label=True),
      s("difficulty", "difficulty|level", "난이도", V, "xcat:difficulty", adn="난이도가 {v}인|{v} 난이도의"),
      s("minutes", "cook_minutes|prep_time", "조리 시간|소요 시간", N, "int:10:120:5", suffix="(분)"),
      s("calories", "calories|kcal", "칼로리|열량", N, "int:150:1200:10", suffix="(kcal)"),
      s("servings", "servings|serves", "인분", N, "int:1:6"), rows=(12, 12)),
    a("food.cafe_sale", "cafe_sale|drink_sale|menu_sale", "음료 판매|카페 매출|판매 기록", "건",
      s("cafe", "cafe|store|brand", "매장|카페|브랜드", V, "xcat:cafe", adn="{v}에서 팔린|{v} 매장의"),
      s("drink", "drink|menu|item", "음료|메뉴", V, "xcat:drink"),
      s("price", "price|unit_price", "가격|판매가", N, "int:2000:7500:100", suffix="(원)"),
      s("qty", "quantity|qty|cups", "수량|잔 수", N, "int:1:6"),
      s("sold", "sold_at|sale_time|ordered_at", "판매 시각|주문 시간", DTM, "datetime:2024:2024", qword="언제"),
      rows=(40, 70)),
    a("biz.company", "company|firm|corporation", "회사|기업|법인", "개",
      s("name", "name|company_name", "회사명|기업명|상호", V, "uxpool:company", label=True),
      s("industry", "industry|sector", "업종|산업", V, "xcat:industry", adn="{v} 업종의|{v} 분야의"),
      s("founded", "founded|established_year", "설립 연도|설립", N, "int:1960:2020", qword="언제"),
      s("employees", "employee_count|employees|headcount", "직원 수|임직원 수", N, "int:10:20000", qword="몇"),
      s("revenue", "revenue|sales", "매출액|매출", N, "int:10:90000:10", suffix="(억원)"),
      s("listed", "is_listed|listed", "상장 여부", B, "bool:0.4", yes="상장된", no="비상장인"),
      s("city", "hq_city|city|headquarters", "본사 위치|본사|소재지", V, "xcat:city", adn="{v}에 본사가 있는", qword="어디"),
      rows=(12, 12), group="biz"),
    a("biz.job", "job_posting|job|opening", "채용 공고|공고|채용", "건",
      s("title", "title|job_title|position", "직무|공고 제목|직무명", V, "xcat:job", label=True),
      s("salary", "salary|annual_salary|pay", "연봉|급여", N, "int:2800:9000:100", suffix="(만원)"),
      s("career", "min_years|experience_years", "경력 요건|요구 경력", N, "int:0:10", suffix="(년)"),
      s("deadline", "deadline|closes_on|due_date", "마감일", DT, "date:2024:2025", qword="언제"),
      s("remote", "is_remote|remote", "재택 가능 여부", B, "bool:0.3", yes="재택이 가능한", no="재택이 안 되는"),
      parents=("biz.company",), rows=(25, 50), group="biz"),
    a("home.apartment_sale", "apartment_sale|housing_deal|apt_trade", "아파트 거래|아파트 매매|실거래가", "건",
      s("complex", "complex_name|apartment|complex", "단지명|아파트|아파트명", V, "xcat:apartment", adn="{v} 단지의"),
      s("district", "district|gu", "자치구|구", V, "district", adn="{v}에 있는|{v}의", qword="어디"),
      s("area", "area_m2|area|size", "전용면적|면적", D, "dec:39:135:0.01", suffix="(㎡)"),
      s("floor", "floor|floor_no", "층|층수", N, "int:1:35"),
      s("price", "price|deal_amount|amount", "거래 금액|매매가|거래가", N, "int:25000:250000:100", suffix="(만원)"),
      s("date", "deal_date|contract_date|traded_on", "거래일|계약일", DT, "date:2021:2024", qword="언제"),
      rows=(30, 60)),
    a("media.award", "award_winner|award|prize", "수상 기록|수상 내역|시상 결과", "건",
      s("ceremony", "ceremony|event|award_show", "시상식", V, "xcat:ceremony", adn="{v}에서 받은"),
      s("year", "year|edition_year", "연도|개최 연도", N, "int:2005:2024", qword="언제"),
      s("category", "category|award|prize", "부문|상|수상 부문", V, "xcat:award"),
      s("winner", "winner|recipient|name", "수상자|이름", V, "person", label=True, qword="누구"),
      s("work", "work|title|nominated_work", "작품|수상작", V, "xpool:tv"), rows=(25, 45)),
    a("media.podcast", "podcast_episode|podcast", "팟캐스트|팟캐스트 에피소드", "개",
      s("show", "show|channel|podcast", "채널|프로그램명|방송", V, "xcat:podcast"),
      s("title", "title|episode_title", "제목|회차 제목", V, "xpool:song", label=True),
      s("host", "host|speaker", "진행자|호스트", V, "person", qword="누구"),
      s("minutes", "duration_min|minutes|length", "길이|재생 시간", N, "int:10:120", suffix="(분)"),
      s("plays", "plays|listens|play_count", "재생 수|청취 수", N, "int:100:300000:10"),
      s("published", "published_at|published_on", "공개일|업로드 날짜", DT, "date:2020:2024", qword="언제"),
      rows=(20, 40)),
    a("people.member", "member|user|person", "회원|사용자|사람", "명", PERSON,
      s("email", "email|email_address", "이메일|이메일 주소", V, "email", null=0.1),
      s("age", "age", "나이|연령", N, "int:18:80"),
      s("city", "city|region|residence", "사는 곳|거주 지역|지역", V, "city", adn="{v}에 사는|{v} 거주", qword="어디"),
      s("hobby", "hobby|interest", "취미|관심사", V, "xcat:hobby", adn="취미가 {v}인|{v}를 좋아하는"),
      s("joined", "joined_at|signup_date|created_at", "가입일|등록일", DT, "date:2018:2024", qword="언제"),
      s("points", "points|reward_points|mileage", "포인트|적립금", N, "int:0:90000:10"),
      s("vip", "is_vip|vip", "VIP 여부", B, "bool:0.2", yes="VIP인", no="VIP가 아닌"), rows=(30, 60), group="people"),
)


def _from_catalog() -> list[Archetype]:
    from kosql.data.synth.catalog2 import DOMAINS, HELDOUT_DOMAINS

    out: list[Archetype] = []
    for domain in DOMAINS:
        if domain.db_id in HELDOUT_DOMAINS:
            continue
        for table in domain.tables:
            cols = tuple(ColSpec(key=c.name, names=(c.name,), ko=(c.ko,), type=c.type, gen=c.gen, null=c.null,
                                 label=c.label, yes=c.yes, no=c.no, qword="누구" if c.gen == "person" else "")
                         for c in table.columns if not c.pk and not c.fk)
            words = split_words(table.name)
            name = "_".join(words[:-1] + [singular(words[-1])])
            parents = tuple(f"{domain.db_id}.{c.fk}" for c in table.columns if c.fk)
            out.append(Archetype(key=f"{domain.db_id}.{table.name}", names=(name,), ko=(table.ko,), unit=table.unit,
                                 columns=cols, parents=parents, rows=(15, min(60, max(15, table.rows // 4))),
                                 group=domain.db_id))
    return out


@functools.lru_cache(maxsize=1)
def all_archetypes() -> dict[str, Archetype]:
    """Every archetype by key: the hand-written ones and one per bundled training-domain table."""
    return {arch.key: arch for arch in (*HAND_WRITTEN, *_from_catalog())}
