"""Value pools of the any-schema archetypes (plain data, no logic); see :mod:`kosql.data.synth.archetypes`."""

from __future__ import annotations

from kosql.data.synth import pools as P

TEAMS = ("서울 FC", "부산 아이파크", "대구 FC", "인천 유나이티드", "울산 현대", "전북 모터스", "광주 FC",
         "수원 블루윙즈", "제주 유나이티드", "강원 FC", "한빛 FC", "레이크 사이드", "한빛 타이거즈", "청룡 드래곤즈")
STADIUMS = ("서울월드컵경기장", "잠실종합운동장", "문수축구경기장", "대구스타디움", "인천축구전용경기장", "고척스카이돔",
            "사직야구장", "광주월드컵경기장", "수원종합운동장", "제주월드컵경기장")
POSITIONS = ("공격수", "미드필더", "수비수", "골키퍼", "가드", "포워드", "센터", "투수", "포수", "내야수", "외야수")
LEAGUES = ("K리그1", "K리그2", "KBL", "KBO", "V리그", "WKBL")
UNIVERSITIES = ("서울대학교", "연세대학교", "고려대학교", "한양대학교", "성균관대학교", "경희대학교", "부산대학교",
                "경북대학교", "전남대학교", "충남대학교", "카이스트", "포항공대")
ARTISTS = ("아이유", "방탄소년단", "블랙핑크", "뉴진스", "세븐틴", "임영웅", "악동뮤지션", "잔나비", "혁오", "볼빨간사춘기",
           "트와이스", "에스파", "르세라핌", "데이식스")
SONG_A = ("봄날의", "밤편지", "여름", "파란", "너의", "우리의", "마지막", "첫", "눈부신", "작은")
SONG_B = ("노래", "기억", "하늘", "바다", "약속", "꿈", "사랑", "거리", "별", "편지")
LABELS = ("하이브", "SM엔터테인먼트", "JYP엔터테인먼트", "YG엔터테인먼트", "카카오엔터테인먼트", "안테나", "미스틱스토리")
TV_TITLES = ("나의 아저씨", "도깨비", "응답하라 1988", "미생", "시그널", "비밀의 숲", "슬기로운 의사생활", "동백꽃 필 무렵",
             "이상한 변호사 우영우", "무빙", "더 글로리", "나의 해방일지", "킹덤", "오징어 게임")
BROADCASTERS = ("KBS", "MBC", "SBS", "tvN", "JTBC", "넷플릭스", "디즈니+", "ENA")
FESTIVALS = ("벚꽃 축제", "불꽃 축제", "머드 축제", "재즈 페스티벌", "빛 축제", "음식 문화 축제", "국제 영화제", "록 페스티벌",
             "등 축제", "눈꽃 축제")
VENUES = ("올림픽공원", "코엑스", "킨텍스", "벡스코", "세종문화회관", "예술의전당", "블루스퀘어", "엑스코", "한강공원")
PARTIES = ("더불어민주당", "국민의힘", "정의당", "무소속", "녹색당", "진보당")
REGIONS = ("서울 종로구", "서울 강남구 갑", "부산 해운대구", "대구 수성구", "인천 연수구", "광주 북구", "대전 유성구",
           "울산 남구", "경기 수원시", "강원 춘천시", "충북 청주시", "전북 전주시", "경남 창원시", "제주시")
ELECTION_RESULTS = ("당선", "낙선", "재선", "초선 당선", "사퇴")
CAR_BRANDS = ("현대", "기아", "제네시스", "쉐보레", "르노코리아", "BMW", "벤츠", "테슬라", "아우디", "볼보")
CAR_MODELS = ("아반떼", "쏘나타", "그랜저", "K5", "쏘렌토", "스포티지", "GV80", "모델 3", "아이오닉 5", "EV6", "캐스퍼",
              "투싼", "트레일블레이저")
FUEL_TYPES = ("가솔린", "디젤", "전기", "하이브리드", "LPG")
BREEDS = ("말티즈", "푸들", "포메라니안", "진돗개", "시바견", "골든 리트리버", "코리안 숏헤어", "러시안 블루", "페르시안",
          "비숑 프리제")
PET_NAMES = ("초코", "콩이", "보리", "두부", "코코", "몽이", "별이", "해피", "루루", "달이", "감자", "호두")
COMPANIES = ("한빛전자", "미래건설", "새솔바이오", "대한물산", "푸른에너지", "누리소프트", "하나로통신", "으뜸식품",
             "세종제약", "다온모빌리티", "별빛게임즈", "가온금융")
INDUSTRIES = ("전자", "건설", "바이오", "유통", "에너지", "소프트웨어", "통신", "식품", "제약", "금융", "게임")
JOB_TITLES = ("백엔드 개발자", "데이터 분석가", "마케터", "영업 관리", "회계 담당", "디자이너", "연구원", "인사 담당",
              "프론트엔드 개발자", "품질 관리")
AWARDS = ("대상", "최우수상", "우수상", "신인상", "인기상", "공로상", "작품상", "감독상", "남우주연상", "여우주연상")
CEREMONIES = ("청룡영화상", "백상예술대상", "골든디스크", "멜론뮤직어워드", "대종상", "연기대상")
SPOTS = ("경복궁", "남산타워", "해운대 해수욕장", "성산일출봉", "불국사", "설악산", "전주 한옥마을", "안동 하회마을",
         "한라산", "남이섬", "순천만 습지", "광안대교", "북촌 한옥마을", "첨성대")
PROVINCES = ("서울특별시", "부산광역시", "대구광역시", "인천광역시", "광주광역시", "대전광역시", "경기도", "강원도",
             "충청북도", "전라남도", "경상북도", "제주특별자치도")
STATIONS = ("서울역", "강남역", "홍대입구역", "잠실역", "부산역", "동대구역", "광주송정역", "대전역", "수원역", "신촌역",
            "시청역", "판교역")
SUBWAY_LINES = ("1호선", "2호선", "3호선", "4호선", "5호선", "신분당선", "경의중앙선", "공항철도")
WEATHER = ("맑음", "흐림", "비", "눈", "구름 많음", "소나기", "안개")
RECIPES = ("김치볶음밥", "된장찌개", "잡채", "불고기", "떡볶이", "갈비찜", "부대찌개", "닭갈비", "해물파전", "미역국",
           "제육볶음", "오므라이스")
DIFFICULTY = ("쉬움", "보통", "어려움")
CAFES = ("스타벅스", "투썸플레이스", "이디야", "메가커피", "빽다방", "폴바셋", "할리스", "컴포즈커피")
DRINKS = ("아메리카노", "카페라떼", "바닐라라떼", "콜드브루", "녹차라떼", "자몽에이드", "카라멜 마키아토", "밀크티")
TOURNAMENTS = ("전국체전", "코리아오픈", "서울오픈", "대통령배", "회장배", "아시안컵 예선", "챔피언스컵", "슈퍼컵")
ROUNDS = ("예선", "16강", "8강", "준결승", "결승")
EXAMS = ("중간고사", "기말고사", "모의고사", "수행평가", "쪽지시험")
APARTMENTS = ("래미안", "자이", "힐스테이트", "푸르지오", "더샵", "아이파크", "롯데캐슬", "e편한세상", "센트럴파크", "SK뷰")
PODCASTS = ("경제 한 스푼", "오늘의 과학", "책 읽는 밤", "개발자 수다", "여행의 맛", "역사 산책", "영화 이야기")
WEBTOONS = ("신의 탑", "유미의 세포들", "나 혼자만 레벨업", "여신강림", "이태원 클라쓰", "전지적 독자 시점", "외모지상주의")
GENRES = ("판타지", "로맨스", "액션", "스릴러", "드라마", "일상", "무협", "SF", "코미디")
PLATFORMS = ("네이버", "카카오", "유튜브", "넷플릭스", "왓챠", "티빙", "쿠팡플레이")
CHARGER_TYPES = ("급속", "완속")
OPERATORS = ("환경부", "한국전력", "차지비", "에버온", "SK일렉링크", "GS차지비")
HOBBIES = ("등산", "독서", "요리", "사진", "자전거", "캠핑", "낚시", "게임", "악기 연주", "그림")

XPOOLS: dict[str, tuple[str, ...]] = {
    "team": TEAMS, "stadium": STADIUMS, "position": POSITIONS, "league": LEAGUES, "university": UNIVERSITIES,
    "artist": ARTISTS, "song": tuple(f"{a} {b}" for a in SONG_A for b in SONG_B), "label": LABELS,
    "tv": TV_TITLES, "broadcaster": BROADCASTERS, "festival": FESTIVALS, "venue": VENUES, "party": PARTIES,
    "region": REGIONS, "election_result": ELECTION_RESULTS, "car_brand": CAR_BRANDS, "car_model": CAR_MODELS,
    "fuel": FUEL_TYPES, "breed": BREEDS, "pet_name": PET_NAMES, "company": COMPANIES, "industry": INDUSTRIES,
    "job": JOB_TITLES, "award": AWARDS, "ceremony": CEREMONIES, "spot": SPOTS, "province": PROVINCES,
    "station": STATIONS, "subway_line": SUBWAY_LINES, "weather": WEATHER, "recipe": RECIPES,
    "difficulty": DIFFICULTY, "cafe": CAFES, "drink": DRINKS, "tournament": TOURNAMENTS, "round": ROUNDS,
    "exam": EXAMS, "apartment": APARTMENTS, "podcast": PODCASTS, "webtoon": WEBTOONS, "genre": GENRES,
    "platform": PLATFORMS, "charger": CHARGER_TYPES, "operator": OPERATORS, "hobby": HOBBIES,
    "city": P.CITIES, "country": P.COUNTRIES, "district": P.DISTRICTS, "nationality": P.NATIONALITIES,
    "movie": P.MOVIE_A, "dish": P.DISHES, "department": P.DEPARTMENTS, "subject": P.SUBJECTS,
    "airline": P.AIRLINES, "hero": P.HERO_NAMES,
}
