"""The guard's function allow-list: the functions a read-only question may call.

sqlglot turns a function it knows into a typed node (``strftime`` -> ``TimeToStr``, ``ifnull`` ->
``Coalesce``) and one it does not into ``Anonymous`` with its name. A typed node is allowed when its
class is in :data:`ALLOWED_FUNCTION_CLASSES`; an ``Anonymous`` call when its name is in
:data:`ALLOWED_FUNCTION_NAMES`. Everything else is refused, so a function nobody listed
(``set_config``, ``pg_sleep``, ``dblink_exec``, ``lo_import``, ``pg_read_file``, ``load_extension``,
``pg_advisory_lock``, ``nextval`` ...) never reaches the database. A policy can add names
(``extra_functions``) but never remove a name of :data:`NEVER_ALLOWED`.
"""

from __future__ import annotations

# SQLite functions that only read: the guard allows them, and kosql.db.execute's authorizer lets a query
# call these (and nothing else).
SQLITE_READ_FUNCTIONS: frozenset[str] = frozenset(
    """
    abs char coalesce concat concat_ws format printf glob hex ifnull iif instr length like likelihood
    likely lower ltrim max min nullif octet_length quote random replace round rtrim sign soundex substr
    substring trim typeof unhex unicode unlikely upper
    avg count group_concat string_agg sum total median
    date time datetime julianday unixepoch strftime timediff current_date current_time current_timestamp
    acos acosh asin asinh atan atan2 atanh ceil ceiling cos cosh degrees exp floor ln log log10 log2
    mod pi pow power radians sin sinh sqrt tan tanh trunc
    row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
    json json_array json_array_length json_extract json_insert json_object json_patch json_quote
    json_remove json_replace json_set json_type json_valid json_group_array json_group_object
    json_each json_tree -> ->>
    """.split()
)

# Typed sqlglot function nodes with no side effect (aggregates, windows, strings, dates, maths).
ALLOWED_FUNCTION_CLASSES: frozenset[str] = frozenset(
    """
    Abs Acos Acosh Asin Asinh Atan Atan2 Atanh Cbrt Ceil Cos Cosh Cot Degrees Exp Floor Ln Log Log2 Log10
    Pow Radians Round Sign Sin Sinh Sqrt Tan Tanh Trunc Mod Pi Rand Random Greatest Least
    Avg Count CountIf Max Min Sum Stddev StddevPop StddevSamp Variance VariancePop Median Quantile
    PercentileCont PercentileDisc ArrayAgg GroupConcat StringAgg ApproxDistinct AnyValue First Last
    LogicalAnd LogicalOr BitwiseAndAgg BitwiseOrAgg BitwiseXorAgg Corr CovarPop CovarSamp
    RowNumber Rank DenseRank PercentRank CumeDist Ntile Lag Lead FirstValue LastValue NthValue
    Case If Coalesce Nullif Cast TryCast Extract Interval
    Concat ConcatWs Length Lower Upper Initcap Substring Trim Replace StrPosition Left Right Lpad Rpad Pad
    Repeat Reverse Split SplitPart Ascii Chr Unicode Hex Unhex Md5 SHA SHA2 RegexpLike RegexpReplace
    RegexpExtract RegexpILike RegexpSplit ILike Like Glob Format StartsWith EndsWith Contains Translate
    Date DateAdd DateSub DateDiff DateTrunc TimestampTrunc DatetimeTrunc TimeToStr StrToTime StrToDate
    TsOrDsToTimestamp TsOrDsToDate TsOrDsAdd TsOrDsDiff TimeStrToTime TimeStrToDate TimeStrToUnix
    UnixToTime UnixToStr UnixToTimeStr TimeToUnix TimeToTimeStr DateStrToDate DateToDateStr DiToDate
    DateToDi StrToUnix Datetime DatetimeAdd DatetimeSub DatetimeDiff Timestamp TimestampAdd TimestampSub
    TimestampDiff Time TimeAdd TimeSub TimeDiff Year Quarter Month Week WeekOfYear Day DayOfWeek
    DayOfWeekIso DayOfMonth DayOfYear Hour Minute Second ToChar ToDate ToNumber ToDays MakeInterval
    CurrentDate CurrentDatetime CurrentTime CurrentTimestamp LastDay AddMonths MonthsBetween
    DateFromParts TimeFromParts TimestampFromParts Unixepoch UnixSeconds
    JSONExtract JSONExtractScalar JSONBExtract JSONBExtractScalar JSONObject JSONArray JSONFormat
    JSONArrayContains JSONBContains ParseJSON JSONType JSONValueArray JSONExists JSONKeys
    Array ArraySize ArrayContains ArrayToString ArrayFirst ArrayLast Explode Unnest Posexplode
    GenerateSeries ExplodingGenerateSeries GenerateDateArray Struct ToBase64 FromBase64 Uuid
    SafeDivide Div IsNan IsInf Boolean Filter WithinGroup Window Exists
    """.split()
)

# Anonymous (unknown to sqlglot) function names that only read.
_POSTGRES_READ_FUNCTIONS = frozenset(
    """
    now age date_part to_timestamp justify_days justify_hours justify_interval make_date make_time
    make_timestamp isfinite clock_timestamp statement_timestamp transaction_timestamp timeofday
    char_length character_length btrim position overlay quote_ident quote_literal quote_nullable
    regexp_match regexp_matches regexp_count strpos split_part string_to_array array_to_string
    array_length cardinality array_position jsonb_build_object json_build_object jsonb_array_length
    jsonb_extract_path_text json_extract_path_text jsonb_typeof json_typeof jsonb_agg json_agg
    jsonb_object_agg json_object_agg bool_and bool_or every width_bucket scale div gcd lcm factorial
    to_hex setseed_never mode percentile_cont percentile_disc regr_slope regr_intercept
    date datetime julianday strftime unixepoch timediff printf format iif ifnull total
    """.split()
) - {"setseed_never"}

# Never callable, whatever a policy adds (writes, sessions, files, other connections, sleeps, locks).
NEVER_ALLOWED: frozenset[str] = frozenset(
    """
    set_config current_setting pg_sleep pg_sleep_for pg_sleep_until sleep benchmark
    dblink dblink_exec dblink_connect dblink_connect_u dblink_send_query dblink_open dblink_fetch
    lo_import lo_export lo_unlink lo_create lo_open lo_put lo_from_bytea lo_get loread lowrite
    pg_read_file pg_read_binary_file pg_ls_dir pg_stat_file pg_file_write load_extension readfile
    writefile edit fts3_tokenizer load_file sys_exec sys_eval
    pg_advisory_lock pg_advisory_xact_lock pg_advisory_lock_shared pg_try_advisory_lock
    pg_try_advisory_xact_lock pg_advisory_unlock pg_advisory_unlock_all pg_notify
    pg_terminate_backend pg_cancel_backend pg_reload_conf pg_rotate_logfile pg_switch_wal
    pg_create_restore_point pg_promote nextval setval currval lastval txid_current pg_current_xact_id
    query_to_xml query_to_xml_and_xmlschema table_to_xml database_to_xml cursor_to_xml
    pg_logical_emit_message pg_replication_origin_create pg_import_system_collations
    """.split()
)

ALLOWED_FUNCTION_NAMES: frozenset[str] = (
    frozenset(f for f in SQLITE_READ_FUNCTIONS if f.isidentifier()) | _POSTGRES_READ_FUNCTIONS
) - NEVER_ALLOWED
