"""Athena query correctness: firelocal's answers compared with DuckDB's on the same data.

One module-scoped fixture generates ~3000 clickstream events (athena_data.py), uploads them to a
fresh bucket the way Firehose lays them out (Hive-style `dt=` partitions, one GZIP part per
date, some field names in other cases, some unknown fields), and registers them in firelocal
with the DDL a user of the seed pipeline runs:

    CREATE DATABASE IF NOT EXISTS ct_<random>
    CREATE EXTERNAL TABLE clicks (...) PARTITIONED BY (dt string)
        ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://<bucket>/events/'
    MSCK REPAIR TABLE clicks

The same events are written locally (decompressed, field names lower-cased) and DuckDB gets a
view `clicks` with the same columns over them, so one SQL text runs on both. Where the two
dialects disagree on a function's name or meaning, a query is given as a pair (Athena SQL,
DuckDB SQL) whose results must agree; every pair says why. The Athena side is the reference:
each query states what real Athena (engine v3, Trino) returns, and a difference is a firelocal
bug, not a query to loosen.

Results are compared as Athena renders them in GetQueryResults: every value a string (NULL is
a Datum without VarCharValue), integers in decimal, booleans 'true'/'false', timestamps
'YYYY-MM-DD HH:MM:SS.mmm', dates 'YYYY-MM-DD', arrays '[a, b]'; columns Athena types double or
real are compared as numbers with a relative tolerance of 1e-9. Rows are compared as multisets
unless the query orders by a unique key.

Without firelocal, `python test_athena_correctness.py --duckdb-only` runs the DuckDB side of
every query, and `--self-test` also drives the Athena half of the harness (paging, header row,
NULL datums, comparison) against a fake Athena client answering from DuckDB.
"""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import math
import sys
import time
import uuid
from pathlib import Path

import duckdb
import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # for --duckdb-only runs from another directory
    sys.path.insert(0, str(HERE))

import athena_data  # noqa: E402

N_EVENTS = 3000
SEED = athena_data.DEFAULT_SEED
QUERY_TIMEOUT = 30.0
REL_TOL = 1e-9
FLOAT_TYPES = ("double", "real", "float")

TABLE_DDL = """CREATE EXTERNAL TABLE clicks (
  event_id string,
  session_id string,
  user_id bigint,
  element_clicked string,
  page string,
  time_spent int,
  price double,
  is_mobile boolean,
  event_time timestamp,
  tags array<string>
)
PARTITIONED BY (dt string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://{bucket}/events/'"""

# The DuckDB twin of the table: the same columns and types, `dt` from the directory names
# (as a string, like the Athena partition column; DuckDB would otherwise guess DATE).
DUCKDB_COLUMNS = {
    "event_id": "VARCHAR",
    "session_id": "VARCHAR",
    "user_id": "BIGINT",
    "element_clicked": "VARCHAR",
    "page": "VARCHAR",
    "time_spent": "INTEGER",
    "price": "DOUBLE",
    "is_mobile": "BOOLEAN",
    "event_time": "TIMESTAMP",
    "tags": "VARCHAR[]",
}


# --------------------------------------------------------------------------------------------
# the queries
# --------------------------------------------------------------------------------------------


class Q:
    """One query. `athena` runs in firelocal; `duckdb` (default: the same text) in DuckDB.
    `ordered`: the query orders by a unique key, so rows are compared in order.
    `types`: the ColumnInfo types Athena reports, when the test pins them.
    `why`: for a pair, what differs between the dialects."""

    def __init__(self, id, athena, duckdb=None, *, ordered=False, types=None, why=None):
        self.id = id
        self.athena = " ".join(athena.split())
        self.duckdb = " ".join((duckdb or athena).split())
        self.ordered = ordered
        self.types = types
        self.why = why
        assert (duckdb is None) == (why is None), f"{id}: a dialect pair needs a `why` (and only a pair)"

    @property
    def is_pair(self):
        return self.athena != self.duckdb

    def __repr__(self):
        return f"Q({self.id})"


D12 = "dt = '2023-11-12'"  # the smallest partition (212 events), for row-level listings

QUERIES = [
    # ---- whole-table aggregates ----------------------------------------------------------
    Q("count_star", "SELECT count(*) AS n FROM clicks", types=["bigint"]),
    # The mixed-case rows (Element_Clicked, USER_ID, ...) must land in their columns: Hive's
    # JsonSerDe matches field names case-insensitively.
    Q(
        "count_columns_case_insensitive",
        "SELECT count(event_id) AS ids, count(element_clicked) AS elements, count(page) AS pages,"
        " count(time_spent) AS spent, count(is_mobile) AS mobile, count(user_id) AS users,"
        " count(price) AS priced, count(tags) AS tagged FROM clicks",
        types=["bigint"] * 8,
    ),
    Q(
        "count_distinct",
        "SELECT count(DISTINCT session_id) AS sessions, count(DISTINCT user_id) AS users,"
        " count(DISTINCT page) AS pages, count(DISTINCT dt) AS days FROM clicks",
    ),
    Q(
        "sum_avg_min_max_int",
        "SELECT sum(time_spent) AS total, avg(time_spent) AS mean, min(time_spent) AS lo,"
        " max(time_spent) AS hi FROM clicks",
        types=["bigint", "double", "integer", "integer"],
    ),
    Q(
        "sum_avg_min_max_double",
        "SELECT sum(price) AS total, avg(price) AS mean, min(price) AS lo, max(price) AS hi FROM clicks",
        types=["double"] * 4,
    ),
    Q(
        "min_max_timestamp",
        "SELECT min(event_time) AS first_seen, max(event_time) AS last_seen FROM clicks",
        types=["timestamp", "timestamp"],
    ),
    Q(
        "min_max_varchar",
        "SELECT min(event_id) AS lo_id, max(page) AS hi_page, min(dt) AS lo_dt, max(dt) AS hi_dt FROM clicks",
        types=["varchar"] * 4,
    ),
    Q(
        "stddev_variance",
        "SELECT stddev_samp(time_spent) AS sd, var_pop(price) AS vp FROM clicks",
        types=["double", "double"],
    ),
    Q(
        "bool_aggregates",
        "SELECT bool_or(is_mobile) AS any_mobile, bool_and(time_spent >= 0) AS all_nonneg,"
        " count_if(is_mobile) AS mobile FROM clicks",
        types=["boolean", "boolean", "bigint"],
    ),
    Q(
        "aggregate_filter",
        "SELECT count(*) FILTER (WHERE is_mobile) AS mobile, count(*) FILTER (WHERE NOT is_mobile) AS desktop,"
        " sum(time_spent) FILTER (WHERE element_clicked = 'buy_now') AS buy_ms FROM clicks",
    ),
    # ---- GROUP BY / HAVING ---------------------------------------------------------------
    Q(
        "group_by_element",
        "SELECT element_clicked, count(*) AS n FROM clicks GROUP BY element_clicked",
        types=["varchar", "bigint"],
    ),
    Q(
        "group_by_ordinal",
        "SELECT page, count(*) AS n, avg(time_spent) AS avg_ms FROM clicks GROUP BY 1",
    ),
    Q(
        "group_by_two_columns",
        "SELECT dt, is_mobile, count(*) AS n, count(DISTINCT session_id) AS sessions FROM clicks GROUP BY 1, 2",
        types=["varchar", "boolean", "bigint", "bigint"],
    ),
    Q(
        "group_by_nullable_key",
        "SELECT user_id, count(*) AS n, max(event_time) AS last_seen FROM clicks GROUP BY user_id",
    ),
    Q(
        "group_by_expression",
        "SELECT substr(page, 1, 9) AS section, count(*) AS n FROM clicks GROUP BY substr(page, 1, 9)",
    ),
    Q(
        "group_by_array",
        "SELECT tags, count(*) AS n FROM clicks WHERE cardinality(tags) = 1 GROUP BY tags",
        types=["array", "bigint"],
    ),
    Q("having_count", "SELECT page, count(*) AS n FROM clicks GROUP BY page HAVING count(*) > 40"),
    Q(
        "having_avg_and_count",
        "SELECT element_clicked, avg(price) AS avg_price FROM clicks WHERE price IS NOT NULL"
        " GROUP BY 1 HAVING avg(price) > 100 AND count(*) >= 10",
    ),
    Q("select_distinct", "SELECT DISTINCT element_clicked, is_mobile FROM clicks"),
    # ---- ORDER BY / LIMIT / OFFSET (Trino: OFFSET comes before LIMIT) ---------------------
    Q(
        "top_pages",
        "SELECT page, count(*) AS n FROM clicks GROUP BY page ORDER BY n DESC, page LIMIT 10",
        ordered=True,
    ),
    Q(
        "order_offset_limit",
        "SELECT event_id, time_spent FROM clicks ORDER BY time_spent DESC, event_id OFFSET 5 LIMIT 10",
        ordered=True,
    ),
    # NULLs sort last by default, ascending and descending alike.
    Q(
        "order_nulls_last_asc",
        f"SELECT event_id, user_id FROM clicks WHERE {D12} ORDER BY user_id, event_id",
        ordered=True,
    ),
    Q(
        "order_nulls_last_desc",
        f"SELECT event_id, price FROM clicks WHERE {D12} ORDER BY price DESC, event_id",
        ordered=True,
    ),
    Q(
        "order_nulls_first",
        "SELECT event_id, user_id FROM clicks ORDER BY user_id NULLS FIRST, event_id LIMIT 30",
        ordered=True,
    ),
    Q(
        "top_sessions",
        "SELECT session_id, count(*) AS n, sum(time_spent) AS ms FROM clicks GROUP BY session_id"
        " ORDER BY n DESC, ms DESC, session_id LIMIT 15",
        ordered=True,
    ),
    # ---- WHERE ---------------------------------------------------------------------------
    Q("where_eq", "SELECT count(*) AS n FROM clicks WHERE element_clicked = 'add_to_cart'"),
    # user_id <> 7 is unknown, so false, for NULL user_id.
    Q(
        "where_not_equal",
        "SELECT count(*) AS n FROM clicks WHERE element_clicked <> 'search' AND page != '/' AND user_id <> 7",
    ),
    Q(
        "where_in_list",
        "SELECT element_clicked, count(*) AS n FROM clicks WHERE element_clicked IN ('buy_now', 'checkout')"
        " GROUP BY 1",
    ),
    Q(
        "where_not_in_list",
        "SELECT count(*) AS n FROM clicks WHERE page NOT IN ('/', '/cart', '/checkout') AND user_id NOT IN (1, 2, 3)",
    ),
    Q("where_between_int", "SELECT count(*) AS n FROM clicks WHERE time_spent BETWEEN 1000 AND 5000"),
    Q(
        "where_between_timestamp",
        "SELECT count(*) AS n FROM clicks"
        " WHERE event_time BETWEEN TIMESTAMP '2023-11-14 08:00:00' AND TIMESTAMP '2023-11-14 12:00:00'",
    ),
    Q("where_like_prefix", "SELECT page, count(*) AS n FROM clicks WHERE page LIKE '/products/1%' GROUP BY page"),
    Q(
        "where_like_underscore_not_like",
        "SELECT count(*) AS n FROM clicks WHERE page LIKE '/products/_' OR (page NOT LIKE '/products/%' AND page LIKE '%a%')",
    ),
    Q(
        "where_is_null",
        "SELECT count(*) FILTER (WHERE user_id IS NULL) AS anon, count(*) FILTER (WHERE price IS NULL) AS no_price,"
        " count(*) FILTER (WHERE tags IS NOT NULL) AS tagged FROM clicks",
    ),
    Q(
        "where_and_or_not",
        "SELECT count(*) AS n FROM clicks WHERE (is_mobile AND time_spent > 30000)"
        " OR NOT (element_clicked IN ('search', 'nav_home') OR price IS NULL)",
    ),
    Q("partition_eq", "SELECT count(*) AS n, sum(time_spent) AS ms FROM clicks WHERE dt = '2023-11-14'"),
    Q(
        "partition_range",
        "SELECT dt, count(*) AS n FROM clicks WHERE dt >= '2023-11-13' AND dt < '2023-11-15' GROUP BY dt",
    ),
    Q(
        "partition_in_with_group",
        "SELECT dt, element_clicked, count(*) AS n FROM clicks WHERE dt IN ('2023-11-12', '2023-11-16') GROUP BY 1, 2",
    ),
    Q(
        "partition_and_hour",
        "SELECT count(*) AS n FROM clicks WHERE dt = '2023-11-15' AND hour(event_time) BETWEEN 9 AND 17",
    ),
    # ---- conditionals ----------------------------------------------------------------------
    Q(
        "case_searched",
        "SELECT CASE WHEN time_spent < 1000 THEN 'bounce' WHEN time_spent < 10000 THEN 'short' ELSE 'long' END"
        " AS bucket, count(*) AS n FROM clicks GROUP BY 1",
    ),
    Q(
        "case_simple",
        "SELECT CASE element_clicked WHEN 'buy_now' THEN 'purchase' WHEN 'add_to_cart' THEN 'intent'"
        " ELSE 'other' END AS stage, count(DISTINCT session_id) AS sessions FROM clicks GROUP BY 1",
    ),
    Q(
        "coalesce",
        "SELECT coalesce(user_id, -1) AS uid, count(*) AS n, sum(coalesce(price, 0)) AS revenue"
        " FROM clicks WHERE dt = '2023-11-13' GROUP BY 1",
    ),
    Q(
        "nullif",
        "SELECT count(NULLIF(time_spent, 0)) AS nonzero, avg(NULLIF(time_spent, 0)) AS avg_nonzero,"
        " count(NULLIF(page, '/')) AS not_home FROM clicks",
    ),
    Q("if_three_args", "SELECT if(is_mobile, 'mobile', 'desktop') AS device, count(*) AS n FROM clicks GROUP BY 1"),
    Q(
        "if_two_args",
        "SELECT count(if(price > 500, price)) AS n, sum(if(price > 500, price)) AS s FROM clicks",
        "SELECT count(if(price > 500, price, NULL)) AS n, sum(if(price > 500, price, NULL)) AS s FROM clicks",
        why="Trino's if(cond, x) is NULL when cond is false; DuckDB's `if` needs all three arguments",
    ),
    Q(
        "greatest_with_null",
        "SELECT greatest(user_id, 100) AS g, count(*) AS n FROM clicks WHERE dt = '2023-11-12' GROUP BY 1",
        "SELECT CASE WHEN user_id IS NULL THEN NULL ELSE greatest(user_id, 100) END AS g, count(*) AS n"
        " FROM clicks WHERE dt = '2023-11-12' GROUP BY 1",
        why="Trino's greatest() is NULL if any argument is NULL; DuckDB's skips NULLs",
    ),
    # ---- casts ---------------------------------------------------------------------------
    Q(
        "cast_to_varchar",
        "SELECT CAST(user_id AS varchar) AS uid, count(*) AS n FROM clicks WHERE dt = '2023-11-15' GROUP BY 1",
        types=["varchar", "bigint"],
    ),
    Q(
        "cast_double_to_integer_rounds_half_up",
        "SELECT event_id, price, CAST(price AS integer) AS whole FROM clicks"
        " WHERE price IS NOT NULL AND (dt = '2023-11-12' OR price - floor(price) = 0.5) ORDER BY event_id",
        "SELECT event_id, price, CAST(round(price) AS INTEGER) AS whole FROM clicks"
        " WHERE price IS NOT NULL AND (dt = '2023-11-12' OR price - floor(price) = 0.5) ORDER BY event_id",
        ordered=True,
        types=["varchar", "double", "integer"],
        why="Trino rounds a double half away from zero when casting to integer (942.5 -> 943); "
        "DuckDB rounds half to even (942.5 -> 942), like its round() does not",
    ),
    Q(
        "cast_boolean_to_integer",
        "SELECT dt, sum(CAST(is_mobile AS integer)) AS mobile FROM clicks GROUP BY dt",
    ),
    Q(
        "cast_timestamp_to_date",
        "SELECT CAST(event_time AS date) AS day, count(*) AS n FROM clicks GROUP BY 1",
        types=["date", "bigint"],
    ),
    Q(
        "cast_timestamp_to_varchar",
        f"SELECT event_id, CAST(event_time AS varchar) AS ts FROM clicks WHERE {D12} ORDER BY event_id LIMIT 20",
        f"SELECT event_id, strftime(event_time, '%Y-%m-%d %H:%M:%S.%g') AS ts FROM clicks WHERE {D12}"
        " ORDER BY event_id LIMIT 20",
        ordered=True,
        why="Trino's timestamp(3) text keeps the milliseconds ('... 00:25:21.000'); DuckDB's drops them",
    ),
    Q(
        "try_cast",
        "SELECT try_cast(substr(page, 11) AS integer) AS product, count(*) AS n FROM clicks GROUP BY 1",
    ),
    Q(
        "cast_varchar_to_bigint",
        "SELECT sum(CAST(substr(page, 11) AS bigint)) AS s FROM clicks WHERE page LIKE '/products/%'",
    ),
    Q(
        "cast_to_decimal",
        "SELECT sum(CAST(price AS decimal(10, 2))) AS revenue, max(CAST(price AS decimal(10, 2))) AS top FROM clicks",
        types=["decimal", "decimal"],
    ),
    # ---- arithmetic ------------------------------------------------------------------------
    Q(
        "integer_division",
        "SELECT time_spent / 1000 AS secs, count(*) AS n FROM clicks GROUP BY 1",
        "SELECT time_spent // 1000 AS secs, count(*) AS n FROM clicks GROUP BY 1",
        types=["integer", "bigint"],
        why="integer / integer is integer division in Trino; DuckDB's / always divides as double",
    ),
    Q(
        "integer_division_negative_truncates",
        f"SELECT event_id, (time_spent - 30000) / 7 AS q, (time_spent - 30000) % 7 AS r FROM clicks"
        f" WHERE {D12} ORDER BY event_id",
        f"SELECT event_id, (time_spent - 30000) // 7 AS q, (time_spent - 30000) % 7 AS r FROM clicks"
        f" WHERE {D12} ORDER BY event_id",
        ordered=True,
        why="Trino's integer / truncates toward zero (-7 / 2 = -3); DuckDB spells that // ",
    ),
    Q(
        "share_of_total_integer_division",
        "SELECT element_clicked, count(*) * 100 / sum(count(*)) OVER () AS pct FROM clicks GROUP BY 1",
        "SELECT element_clicked, count(*) * 100 // sum(count(*)) OVER () AS pct FROM clicks GROUP BY 1",
        why="bigint / bigint is integer division in Trino; DuckDB needs //",
    ),
    Q(
        "double_arithmetic",
        f"SELECT event_id, price * 2 + 1 AS a, price / 3 AS b, -price AS c, time_spent / 1000e0 AS secs"
        f" FROM clicks WHERE {D12} ORDER BY event_id",
        ordered=True,
    ),
    Q(
        "mixed_ratio",
        "SELECT dt, sum(price) / count(*) AS per_event, CAST(count(price) AS double) / count(*) AS priced_share"
        " FROM clicks GROUP BY dt",
        types=["varchar", "double", "double"],
    ),
    Q(
        "mod_abs",
        "SELECT mod(time_spent, 7) AS m, abs(time_spent - 30000) % 1000 AS a, count(*) AS n FROM clicks"
        " WHERE dt = '2023-11-12' GROUP BY 1, 2",
    ),
    Q(
        "round_floor_ceil",
        f"SELECT event_id, round(price) AS r0, round(price, 1) AS r1, floor(price) AS f, ceil(price) AS c"
        f" FROM clicks WHERE {D12} AND price IS NOT NULL ORDER BY event_id",
        f"SELECT event_id, round(price) AS r0, round(price * 10) / 10 AS r1, floor(price) AS f, ceil(price) AS c"
        f" FROM clicks WHERE {D12} AND price IS NOT NULL ORDER BY event_id",
        ordered=True,
        why="Trino's round(double, d) is Math.round(x * 10^d) / 10^d (587.65 -> 587.7); DuckDB rounds the exact binary value (-> 587.6)",
    ),
    # ---- strings ---------------------------------------------------------------------------
    Q(
        "lower_upper",
        "SELECT upper(element_clicked) AS u, lower(upper(page)) = page AS same, count(*) AS n FROM clicks GROUP BY 1, 2",
    ),
    Q(
        "trim_length",
        "SELECT length(trim('  ' || page || ' ')) AS len, length(page) AS raw_len, count(*) AS n FROM clicks GROUP BY 1, 2",
        types=["bigint", "bigint", "bigint"],
    ),
    Q(
        "substr",
        f"SELECT event_id, substr(event_id, 1, 8) AS prefix, substr(page, -2) AS tail, substr(page, 2) AS rest"
        f" FROM clicks WHERE {D12} ORDER BY event_id",
        f"SELECT event_id, substr(event_id, 1, 8) AS prefix,"
        f" CASE WHEN length(page) >= 2 THEN substr(page, -2) ELSE '' END AS tail, substr(page, 2) AS rest"
        f" FROM clicks WHERE {D12} ORDER BY event_id",
        ordered=True,
        why="a negative start before the beginning gives '' in Trino (substr('/', -2) = ''); "
        "DuckDB clamps it to the start ('/')",
    ),
    Q(
        "concat_function_null",
        f"SELECT event_id, concat(element_clicked, ':', CAST(user_id AS varchar)) AS k FROM clicks"
        f" WHERE {D12} ORDER BY event_id",
        f"SELECT event_id, element_clicked || ':' || CAST(user_id AS VARCHAR) AS k FROM clicks"
        f" WHERE {D12} ORDER BY event_id",
        ordered=True,
        why="Trino's concat() is NULL when an argument is NULL (like ||); DuckDB's concat() skips NULLs",
    ),
    Q(
        "concat_operator",
        "SELECT element_clicked || '@' || page AS k, count(*) AS n FROM clicks GROUP BY 1 HAVING count(*) > 5",
    ),
    Q(
        "split_part",
        "SELECT split_part(page, '/', 2) AS section, split_part(page, '/', 3) AS item, count(*) AS n"
        " FROM clicks GROUP BY 1, 2",
        "SELECT string_split(page, '/')[2] AS section, string_split(page, '/')[3] AS item, count(*) AS n"
        " FROM clicks GROUP BY 1, 2",
        why="Trino's split_part() is NULL past the last field (split_part('/', '/', 3)) but '' for an "
        "empty field inside (split_part('/', '/', 2)); DuckDB's split_part gives '' for both, its "
        "string_split(...)[n] behaves like Trino",
    ),
    Q(
        "regexp_like",
        "SELECT count(*) AS n, count_if(regexp_like(page, 'cat')) AS cat FROM clicks"
        " WHERE regexp_like(page, '^/products/[0-9]+$') OR regexp_like(element_clicked, 'nav_')",
        "SELECT count(*) AS n, count_if(regexp_matches(page, 'cat')) AS cat FROM clicks"
        " WHERE regexp_matches(page, '^/products/[0-9]+$') OR regexp_matches(element_clicked, 'nav_')",
        why="DuckDB calls regexp_like regexp_matches (both match anywhere unless anchored)",
    ),
    Q(
        "regexp_extract",
        r"SELECT regexp_extract(page, '/products/(\d+)', 1) AS product, count(*) AS n FROM clicks GROUP BY 1",
        r"SELECT NULLIF(regexp_extract(page, '/products/(\d+)', 1), '') AS product, count(*) AS n"
        " FROM clicks GROUP BY 1",
        why="Trino's regexp_extract() is NULL when nothing matches; DuckDB's is ''",
    ),
    Q(
        "strpos_replace_reverse_lpad",
        "SELECT page, strpos(page, 'o') AS pos, replace(page, '/products/', 'p') AS short,"
        " reverse(page) AS rev, lpad(substr(page, 11), 4, '0') AS padded, starts_with(page, '/c') AS sw"
        " FROM clicks GROUP BY page",
    ),
    # ---- dates and times -------------------------------------------------------------------
    Q(
        "date_trunc_hour",
        "SELECT date_trunc('hour', event_time) AS hr, count(*) AS n FROM clicks WHERE dt = '2023-11-14' GROUP BY 1",
        types=["timestamp", "bigint"],
    ),
    Q(
        "date_trunc_day_matches_partition",
        "SELECT dt, date_trunc('day', event_time) AS day, count(*) AS n FROM clicks GROUP BY 1, 2",
    ),
    Q(
        "extract_fields",
        "SELECT year(event_time) AS y, month(event_time) AS mo, day(event_time) AS d, hour(event_time) AS h,"
        " count(*) AS n, sum(minute(event_time)) AS mins, sum(second(event_time)) AS secs FROM clicks GROUP BY 1, 2, 3, 4",
        types=["bigint"] * 7,
    ),
    Q(
        "day_of_week_and_year",
        "SELECT day_of_week(event_time) AS dow, day_of_year(event_time) AS doy, count(*) AS n FROM clicks GROUP BY 1, 2",
        "SELECT isodow(event_time) AS dow, dayofyear(event_time) AS doy, count(*) AS n FROM clicks GROUP BY 1, 2",
        why="Trino's day_of_week is ISO (Monday=1..Sunday=7), DuckDB's isodow; DuckDB's "
        "dayofweek is Sunday=0 and it has no day_of_week/day_of_year names",
    ),
    Q(
        "date_format_hour",
        "SELECT date_format(event_time, '%Y-%m-%d %H') AS hr, count(*) AS n FROM clicks GROUP BY 1",
        "SELECT strftime(event_time, '%Y-%m-%d %H') AS hr, count(*) AS n FROM clicks GROUP BY 1",
        why="Athena's date_format takes MySQL specifiers; DuckDB's strftime takes C ones",
    ),
    Q(
        "date_format_minutes",
        f"SELECT event_id, date_format(event_time, '%H:%i') AS hm, date_format(event_time, '%Y%m%d') AS ymd"
        f" FROM clicks WHERE {D12} ORDER BY event_id",
        f"SELECT event_id, strftime(event_time, '%H:%M') AS hm, strftime(event_time, '%Y%m%d') AS ymd"
        f" FROM clicks WHERE {D12} ORDER BY event_id",
        ordered=True,
        why="minutes are %i in MySQL format (%M there is the month name) and %M in strftime",
    ),
    Q(
        "date_add",
        f"SELECT event_id, date_add('day', 1, event_time) AS next_day, date_add('hour', -3, event_time) AS earlier"
        f" FROM clicks WHERE {D12} ORDER BY event_id",
        f"SELECT event_id, event_time + INTERVAL 1 DAY AS next_day, event_time - INTERVAL 3 HOUR AS earlier"
        f" FROM clicks WHERE {D12} ORDER BY event_id",
        ordered=True,
        types=["varchar", "timestamp", "timestamp"],
        why="Trino's date_add(unit, n, ts); DuckDB's date_add takes (ts, interval)",
    ),
    Q(
        "interval_arithmetic",
        "SELECT date_trunc('hour', event_time + INTERVAL '90' MINUTE) AS shifted,"
        " date_trunc('day', event_time - INTERVAL '1' DAY) AS prev_day, count(*) AS n"
        " FROM clicks WHERE dt = '2023-11-13' GROUP BY 1, 2",
    ),
    Q(
        "date_diff_session_duration",
        "SELECT session_id, date_diff('second', min(event_time), max(event_time)) AS duration_s, count(*) AS n"
        " FROM clicks GROUP BY session_id",
        types=["varchar", "bigint", "bigint"],
    ),
    Q(
        "date_diff_days_counts_whole_days",
        "SELECT date_diff('day', event_time, TIMESTAMP '2023-11-20 06:00:00') AS days_left, count(*) AS n"
        " FROM clicks GROUP BY 1",
        "SELECT date_sub('day', event_time, TIMESTAMP '2023-11-20 06:00:00') AS days_left, count(*) AS n"
        " FROM clicks GROUP BY 1",
        why="Trino's date_diff counts whole elapsed units (23:00 -> 01:00 next day is 0 days); "
        "DuckDB's date_diff counts boundaries crossed (1), its date_sub counts whole units",
    ),
    Q(
        "to_unixtime",
        f"SELECT event_id, to_unixtime(event_time) AS epoch_s FROM clicks WHERE {D12} ORDER BY event_id",
        f"SELECT event_id, epoch(event_time) AS epoch_s FROM clicks WHERE {D12} ORDER BY event_id",
        ordered=True,
        types=["varchar", "double"],
        why="DuckDB calls to_unixtime epoch()",
    ),
    Q(
        "from_unixtime_as_timestamp",
        "SELECT CAST(from_unixtime(to_unixtime(event_time) + 3600) AS timestamp) AS plus_hour, count(*) AS n"
        " FROM clicks WHERE dt = '2023-11-15' GROUP BY 1",
        "SELECT CAST(to_timestamp(epoch(event_time) + 3600) AS TIMESTAMP) AS plus_hour, count(*) AS n"
        " FROM clicks WHERE dt = '2023-11-15' GROUP BY 1",
        types=["timestamp", "bigint"],
        why="DuckDB's from_unixtime is to_timestamp (the session time zone is UTC on both sides)",
    ),
    Q(
        "from_unixtime_with_time_zone",
        f"SELECT event_id, from_unixtime(to_unixtime(event_time)) AS ts_utc FROM clicks WHERE {D12}"
        f" ORDER BY event_id LIMIT 10",
        f"SELECT event_id, to_timestamp(epoch(event_time)) AS ts_utc FROM clicks WHERE {D12}"
        f" ORDER BY event_id LIMIT 10",
        ordered=True,
        types=["varchar", "timestamp with time zone"],
        why="from_unixtime returns timestamp(3) with time zone, rendered '2023-11-12 00:25:21.000 UTC' "
        "in Athena's UTC session; DuckDB's to_timestamp is TIMESTAMPTZ",
    ),
    Q(
        "date_parse",
        "SELECT dt, count(*) AS morning FROM clicks"
        " WHERE event_time < date_parse(dt || ' 12:00:00', '%Y-%m-%d %H:%i:%s') GROUP BY dt",
        "SELECT dt, count(*) AS morning FROM clicks"
        " WHERE event_time < strptime(dt || ' 12:00:00', '%Y-%m-%d %H:%M:%S') GROUP BY dt",
        why="Athena's date_parse takes MySQL specifiers (%i minutes, %s seconds); DuckDB's strptime C ones",
    ),
    Q(
        "date_parse_roundtrip",
        "SELECT count(*) AS n FROM clicks"
        " WHERE date_parse(date_format(event_time, '%Y-%m-%d %H:%i:%s'), '%Y-%m-%d %H:%i:%s') = event_time",
        "SELECT count(*) AS n FROM clicks"
        " WHERE strptime(strftime(event_time, '%Y-%m-%d %H:%M:%S'), '%Y-%m-%d %H:%M:%S') = event_time",
        why="MySQL vs C format specifiers, as above",
    ),
    Q(
        "timestamp_literal_range_equals_partition",
        "SELECT count(*) AS n FROM clicks"
        " WHERE event_time >= TIMESTAMP '2023-11-14 00:00:00' AND event_time < TIMESTAMP '2023-11-15 00:00:00'",
    ),
    Q(
        "date_literal",
        "SELECT count(*) AS n FROM clicks WHERE CAST(event_time AS date) = DATE '2023-11-13'",
    ),
    # ---- CTEs and subqueries ---------------------------------------------------------------
    Q(
        "cte_session_lengths",
        "WITH s AS (SELECT session_id, count(*) AS events FROM clicks GROUP BY 1)"
        " SELECT events, count(*) AS sessions FROM s GROUP BY events",
    ),
    Q(
        "cte_two_joined",
        "WITH carts AS (SELECT session_id, count(*) AS adds FROM clicks WHERE element_clicked = 'add_to_cart' GROUP BY 1),"
        " buys AS (SELECT session_id, count(*) AS buys FROM clicks WHERE element_clicked = 'buy_now' GROUP BY 1)"
        " SELECT c.adds, count(*) AS sessions, count(b.buys) AS converted FROM carts c LEFT JOIN buys b"
        " ON c.session_id = b.session_id GROUP BY c.adds",
    ),
    Q(
        "subquery_in_from",
        "SELECT avg(n) AS avg_events, max(n) AS max_events FROM"
        " (SELECT session_id, count(*) AS n FROM clicks GROUP BY session_id) t",
        types=["double", "bigint"],
    ),
    Q(
        "scalar_subquery_in_where",
        "SELECT count(*) AS n FROM clicks WHERE time_spent > (SELECT avg(time_spent) FROM clicks)",
    ),
    Q(
        "scalar_subquery_in_select",
        "SELECT element_clicked, count(*) AS n, (SELECT count(*) FROM clicks) AS total FROM clicks GROUP BY 1",
    ),
    Q(
        "in_subquery",
        "SELECT element_clicked, count(*) AS n FROM clicks"
        " WHERE session_id IN (SELECT session_id FROM clicks WHERE element_clicked = 'buy_now') GROUP BY 1",
    ),
    # The subquery yields NULLs (anonymous users on 2023-11-12), so NOT IN is never true.
    Q(
        "not_in_subquery_with_nulls",
        "SELECT count(*) AS n FROM clicks WHERE user_id NOT IN (SELECT user_id FROM clicks WHERE dt = '2023-11-12')",
    ),
    Q(
        "not_in_subquery_without_nulls",
        "SELECT count(*) AS n FROM clicks WHERE user_id NOT IN"
        " (SELECT user_id FROM clicks WHERE dt = '2023-11-12' AND user_id IS NOT NULL)",
    ),
    Q(
        "exists_correlated",
        "SELECT count(DISTINCT c.session_id) AS sessions FROM clicks c WHERE EXISTS"
        " (SELECT 1 FROM clicks b WHERE b.session_id = c.session_id AND b.element_clicked = 'buy_now')",
    ),
    # ---- joins ---------------------------------------------------------------------------
    Q(
        "self_join_pairs",
        "SELECT count(*) AS pairs FROM clicks a JOIN clicks b ON a.session_id = b.session_id AND a.event_time < b.event_time",
    ),
    Q(
        "self_join_funnel",
        "SELECT a.is_mobile, count(DISTINCT a.session_id) AS sessions FROM clicks a JOIN clicks b"
        " ON a.session_id = b.session_id WHERE a.element_clicked = 'add_to_cart'"
        " AND b.element_clicked = 'checkout' AND b.event_time > a.event_time GROUP BY a.is_mobile",
    ),
    Q(
        "left_join_buyers",
        "WITH buyers AS (SELECT DISTINCT session_id FROM clicks WHERE element_clicked = 'buy_now')"
        " SELECT c.dt, count(DISTINCT c.session_id) AS sessions, count(DISTINCT b.session_id) AS buying"
        " FROM clicks c LEFT JOIN buyers b ON c.session_id = b.session_id GROUP BY c.dt",
    ),
    Q(
        "left_join_unmatched_rows",
        "SELECT d.dt, count(u.user_id) AS big_spenders FROM (SELECT DISTINCT dt FROM clicks) d"
        " LEFT JOIN (SELECT dt, user_id FROM clicks WHERE element_clicked = 'buy_now' AND user_id > 240) u"
        " ON d.dt = u.dt GROUP BY d.dt",
    ),
    Q(
        "join_using",
        "SELECT count(*) AS n FROM (SELECT DISTINCT session_id FROM clicks WHERE is_mobile) m"
        " JOIN (SELECT DISTINCT session_id FROM clicks WHERE element_clicked = 'search') s USING (session_id)",
    ),
    # ---- set operations ------------------------------------------------------------------
    Q(
        "union_all",
        "SELECT 'mobile' AS device, count(*) AS n FROM clicks WHERE is_mobile"
        " UNION ALL SELECT 'desktop', count(*) FROM clicks WHERE NOT is_mobile"
        " UNION ALL SELECT 'mobile', count(*) FROM clicks WHERE is_mobile",
    ),
    Q(
        "union_distinct",
        "SELECT element_clicked FROM clicks WHERE dt = '2023-11-12'"
        " UNION SELECT element_clicked FROM clicks WHERE dt = '2023-11-16'",
    ),
    Q(
        "intersect_except",
        "SELECT (SELECT count(*) FROM (SELECT user_id FROM clicks WHERE dt = '2023-11-12'"
        " INTERSECT SELECT user_id FROM clicks WHERE dt = '2023-11-13') i) AS both_days,"
        " (SELECT count(*) FROM (SELECT user_id FROM clicks WHERE dt = '2023-11-12'"
        " EXCEPT SELECT user_id FROM clicks WHERE dt = '2023-11-13') e) AS only_first",
    ),
    # ---- window functions ------------------------------------------------------------------
    Q(
        "row_number",
        f"SELECT event_id, session_id, row_number() OVER (PARTITION BY session_id ORDER BY event_time, event_id) AS step"
        f" FROM clicks WHERE {D12}",
        types=["varchar", "varchar", "bigint"],
    ),
    Q(
        "first_event_per_session",
        "WITH r AS (SELECT element_clicked, row_number() OVER (PARTITION BY session_id ORDER BY event_time, event_id)"
        " AS rn FROM clicks) SELECT element_clicked, count(*) AS sessions FROM r WHERE rn = 1 GROUP BY 1",
    ),
    Q(
        "rank_dense_rank",
        "SELECT page, n, rank() OVER (ORDER BY n DESC) AS rnk, dense_rank() OVER (ORDER BY n DESC) AS drnk"
        " FROM (SELECT page, count(*) AS n FROM clicks GROUP BY page) t",
        types=["varchar", "bigint", "bigint", "bigint"],
    ),
    Q(
        "lag_lead",
        f"SELECT event_id,"
        f" lag(element_clicked) OVER (PARTITION BY session_id ORDER BY event_time, event_id) AS prev_el,"
        f" lead(event_time) OVER (PARTITION BY session_id ORDER BY event_time, event_id) AS next_time,"
        f" lag(time_spent, 2, -1) OVER (PARTITION BY session_id ORDER BY event_time, event_id) AS prev2"
        f" FROM clicks WHERE {D12}",
    ),
    Q(
        "gap_between_events",
        "SELECT element_clicked, avg(gap) AS avg_gap_s, max(gap) AS max_gap_s FROM"
        " (SELECT element_clicked, date_diff('second', lag(event_time) OVER (PARTITION BY session_id"
        " ORDER BY event_time, event_id), event_time) AS gap FROM clicks) t GROUP BY 1",
    ),
    Q(
        "running_sum",
        f"SELECT event_id, sum(time_spent) OVER (PARTITION BY session_id ORDER BY event_time, event_id) AS running"
        f" FROM clicks WHERE {D12}",
        types=["varchar", "bigint"],
    ),
    Q(
        "moving_average_rows_frame",
        "SELECT event_id, avg(time_spent) OVER (PARTITION BY dt ORDER BY event_time, event_id"
        " ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS moving FROM clicks WHERE dt IN ('2023-11-12', '2023-11-15')",
    ),
    Q(
        "partition_totals_and_first_value",
        f"SELECT event_id, count(*) OVER (PARTITION BY session_id) AS session_events,"
        f" first_value(page) OVER (PARTITION BY session_id ORDER BY event_time, event_id) AS landing,"
        f" sum(time_spent) OVER () AS day_total FROM clicks WHERE {D12}",
    ),
    # ---- approximate, arbitrary, arrays ------------------------------------------------------
    Q(
        "approx_distinct",
        "SELECT dt, approx_distinct(element_clicked) AS elements, approx_distinct(page) AS pages FROM clicks GROUP BY dt",
        "SELECT dt, count(DISTINCT element_clicked) AS elements, count(DISTINCT page) AS pages FROM clicks GROUP BY dt",
        types=["varchar", "bigint", "bigint"],
        why="approx_distinct is exact at these small cardinalities (HyperLogLog's sparse form)",
    ),
    # Deterministic: every row of a partition has the same date.
    Q(
        "arbitrary_single_valued_group",
        "SELECT dt, arbitrary(CAST(event_time AS date)) AS day FROM clicks GROUP BY dt",
        types=["varchar", "date"],
    ),
    Q(
        "cardinality",
        "SELECT cardinality(tags) AS n_tags, count(*) AS n FROM clicks GROUP BY 1",
        types=["bigint", "bigint"],
    ),
    Q(
        "unnest_tags",
        "SELECT tag, count(*) AS n FROM clicks CROSS JOIN UNNEST(tags) AS t(tag) GROUP BY tag",
        types=["varchar", "bigint"],
    ),
    Q(
        "unnest_tags_by_device",
        "SELECT is_mobile, tag, count(DISTINCT session_id) AS sessions FROM clicks"
        " CROSS JOIN UNNEST(tags) AS t(tag) WHERE dt <> '2023-11-14' GROUP BY 1, 2",
    ),
    Q(
        "contains",
        "SELECT count(*) AS n, count_if(contains(tags, 'promo')) AS promo FROM clicks WHERE contains(tags, 'sale')",
    ),
    Q(
        "element_at",
        "SELECT element_at(tags, 1) AS first_tag, element_at(tags, 3) AS third_tag, count(*) AS n FROM clicks GROUP BY 1, 2",
        "SELECT tags[1] AS first_tag, tags[3] AS third_tag, count(*) AS n FROM clicks GROUP BY 1, 2",
        why="Trino's element_at is NULL past the end ([] fails there instead); DuckDB's [] is NULL there",
    ),
    Q(
        "array_join",
        f"SELECT event_id, array_join(tags, '|') AS joined FROM clicks WHERE {D12} ORDER BY event_id",
        f"SELECT event_id, array_to_string(tags, '|') AS joined FROM clicks WHERE {D12} ORDER BY event_id",
        ordered=True,
        why="DuckDB calls array_join array_to_string",
    ),
    Q(
        "select_array",
        "SELECT event_id, tags FROM clicks ORDER BY event_id LIMIT 40",
        ordered=True,
        types=["varchar", "array"],
    ),
    Q(
        "select_star",
        f"SELECT * FROM clicks WHERE {D12} ORDER BY event_id",
        ordered=True,
        types=["varchar", "varchar", "bigint", "varchar", "varchar", "integer", "double", "boolean",
               "timestamp", "array", "varchar"],
    ),
]

# Queries that Athena must reject: (id, sql, substring of the failure reason).
NEGATIVE = [
    ("unknown_column", "SELECT no_such_column FROM clicks", "cannot be resolved"),
    ("unknown_table", "SELECT count(*) FROM no_such_table", "does not exist"),
    ("unknown_function", "SELECT no_such_function(page) FROM clicks", "not registered"),
    (
        "column_not_in_group_by",
        "SELECT page, element_clicked, count(*) FROM clicks GROUP BY page",
        "must be an aggregate expression or appear in GROUP BY",
    ),
    ("syntax_error", "SELECT FROM clicks WHERE", "mismatched input"),
    ("limit_before_offset", "SELECT event_id FROM clicks ORDER BY event_id LIMIT 5 OFFSET 2", "mismatched input"),
    ("timestamp_vs_integer", "SELECT count(*) FROM clicks WHERE event_time > 5", "Cannot apply operator"),
    ("wrong_argument_type", "SELECT length(time_spent) FROM clicks", "Unexpected parameters"),
    ("ambiguous_column", "SELECT session_id FROM clicks a JOIN clicks b ON a.event_id = b.event_id", "ambiguous"),
    ("division_by_zero", "SELECT time_spent / (time_spent - time_spent) FROM clicks", "Division by zero"),
    ("cast_failure", "SELECT CAST(page AS integer) FROM clicks", "Cannot cast"),
    ("array_subscript_out_of_range", "SELECT tags[5] FROM clicks", "Array subscript"),
]

assert len({q.id for q in QUERIES}) == len(QUERIES), "duplicate query ids"
assert len({n[0] for n in NEGATIVE}) == len(NEGATIVE), "duplicate negative ids"


# --------------------------------------------------------------------------------------------
# rendering and comparison
# --------------------------------------------------------------------------------------------


def render(v):
    """A DuckDB value as Athena renders it in GetQueryResults."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, dt.datetime):
        text = f"{v:%Y-%m-%d %H:%M:%S}.{v.microsecond // 1000:03d}"
        if v.tzinfo is not None:
            zone = getattr(v.tzinfo, "key", None) or ("UTC" if v.utcoffset() == dt.timedelta(0) else v.strftime("%z"))
            text += f" {zone}"
        return text
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join("null" if x is None else render(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={'null' if x is None else render(x)}" for k, x in v.items()) + "}"
    return str(v)


def _float_or_none(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _sort_key(row, float_cols):
    key = []
    for i, v in enumerate(row):
        if v is None:
            key.append((0, 0.0, ""))
        elif i in float_cols and _float_or_none(v) is not None:
            key.append((1, float(f"{float(v):.9g}"), ""))
        else:
            key.append((2, 0.0, v))
    return tuple(key)


def _cell_equal(a, d, is_float):
    if a is None or d is None:
        return a is None and d is None
    if is_float:
        fa, fd = _float_or_none(a), _float_or_none(d)
        if fa is not None and fd is not None:
            if math.isnan(fa) or math.isnan(fd):
                return math.isnan(fa) and math.isnan(fd)
            return math.isclose(fa, fd, rel_tol=REL_TOL, abs_tol=1e-12)
    return a == d


def compare_rows(athena_types, athena_rows, duck_rows, ordered):
    """Compares Athena's rendered rows with DuckDB's (already rendered); returns a list of
    human-readable differences (empty when they agree)."""
    float_cols = {i for i, t in enumerate(athena_types) if (t or "").lower() in FLOAT_TYPES}
    a_rows = [tuple(r) for r in athena_rows]
    d_rows = [tuple(r) for r in duck_rows]
    if not ordered:
        a_rows = sorted(a_rows, key=lambda r: _sort_key(r, float_cols))
        d_rows = sorted(d_rows, key=lambda r: _sort_key(r, float_cols))
    problems = []
    if len(a_rows) != len(d_rows):
        problems.append(f"row count: athena {len(a_rows)}, duckdb {len(d_rows)}")
        ca = collections.Counter(_sort_key(r, float_cols) for r in a_rows)
        cd = collections.Counter(_sort_key(r, float_cols) for r in d_rows)
        extra = list((ca - cd).elements())[:5]
        missing = list((cd - ca).elements())[:5]
        strip = lambda k: tuple(None if c[0] == 0 else (c[1] if c[0] == 1 else c[2]) for c in k)  # noqa: E731
        if extra:
            problems.append(f"only in athena (first 5): {[strip(k) for k in extra]}")
        if missing:
            problems.append(f"only in duckdb (first 5): {[strip(k) for k in missing]}")
        return problems
    bad = 0
    for n, (a, d) in enumerate(zip(a_rows, d_rows)):
        if len(a) != len(d) or not all(_cell_equal(x, y, i in float_cols) for i, (x, y) in enumerate(zip(a, d))):
            bad += 1
            if bad <= 8:
                problems.append(f"row {n}: athena {a!r} != duckdb {d!r}")
    if bad > 8:
        problems.append(f"... {bad} differing rows in all, of {len(a_rows)}")
    return problems


# --------------------------------------------------------------------------------------------
# Athena (firelocal) side
# --------------------------------------------------------------------------------------------


class AthenaQueryFailed(AssertionError):
    def __init__(self, sql, state, reason, query_id=None):
        super().__init__(f"Athena query {state}: {reason}\n  sql: {sql}")
        self.sql, self.state, self.reason, self.query_id = sql, state, reason, query_id


class AthenaResult:
    def __init__(self, query_id, columns, types, rows, execution):
        self.query_id = query_id
        self.columns = columns
        self.types = types
        self.rows = rows
        self.execution = execution


class AthenaRunner:
    """run(sql) = StartQueryExecution + poll GetQueryExecution + page GetQueryResults."""

    def __init__(self, client, database, output_location, timeout=QUERY_TIMEOUT):
        self.client = client
        self.database = database
        self.output_location = output_location
        self.timeout = timeout

    def start(self, sql, database=None):
        resp = self.client.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": database or self.database},
            ResultConfiguration={"OutputLocation": self.output_location},
        )
        return resp["QueryExecutionId"]

    def wait(self, query_id, sql=""):
        deadline = time.monotonic() + self.timeout
        delay = 0.02
        while True:
            execution = self.client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            status = execution["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return execution
            if state in ("FAILED", "CANCELLED"):
                raise AthenaQueryFailed(sql, state, status.get("StateChangeReason", "<no StateChangeReason>"), query_id)
            if time.monotonic() > deadline:
                raise AssertionError(f"Athena query still {state} after {self.timeout}s: {sql}")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def run(self, sql, header=True, database=None):
        """Runs `sql` to completion. With `header` (a SELECT), the first row must be the column
        names and is dropped. Returns an AthenaResult with rows as lists of str-or-None."""
        query_id = self.start(sql, database)
        execution = self.wait(query_id, sql)
        columns = types = None
        rows = []
        token = None
        while True:
            kwargs = {"QueryExecutionId": query_id, "MaxResults": 1000}
            if token:
                kwargs["NextToken"] = token
            page = self.client.get_query_results(**kwargs)
            result_set = page["ResultSet"]
            if columns is None:
                info = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                columns = [c["Name"] for c in info]
                types = [c["Type"] for c in info]
            for row in result_set.get("Rows", []):
                rows.append([d.get("VarCharValue") for d in row.get("Data", [])])
            token = page.get("NextToken")
            if not token:
                break
        if header:
            assert rows, f"a SELECT result must start with its header row; got no rows at all\n  sql: {sql}"
            assert rows[0] == columns, f"header row {rows[0]!r} != ColumnInfo names {columns!r}\n  sql: {sql}"
            rows = rows[1:]
        for i, row in enumerate(rows):
            assert len(row) == len(columns), f"row {i} has {len(row)} values for {len(columns)} columns: {row!r}"
        return AthenaResult(query_id, columns, types, rows, execution)

    def failure_reason(self, sql):
        """Runs `sql`, which must fail; returns the reason. A rejection at StartQueryExecution
        (InvalidRequestException) counts as failing too."""
        from botocore.exceptions import ClientError

        try:
            query_id = self.start(sql)
        except ClientError as e:
            return f"{e.response['Error'].get('Code')}: {e.response['Error'].get('Message')}"
        try:
            self.wait(query_id, sql)
        except AthenaQueryFailed as e:
            assert e.state == "FAILED", f"expected FAILED, got {e.state}"
            return e.reason
        raise AssertionError(f"query succeeded; Athena fails it\n  sql: {sql}")


# --------------------------------------------------------------------------------------------
# DuckDB side
# --------------------------------------------------------------------------------------------


def duckdb_connect(data_dir):
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET default_null_order = 'nulls_last'")
    glob = str(Path(data_dir) / "events" / "*" / "*.json")
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in DUCKDB_COLUMNS.items()) + "}"
    con.execute(
        f"CREATE VIEW clicks AS SELECT * FROM read_json('{glob}', format = 'newline_delimited',"
        f" columns = {columns}, hive_partitioning = true, hive_types = {{'dt': 'VARCHAR'}})"
    )
    return con


def duckdb_run(con, sql):
    """Returns (column names, DuckDB type names, rows rendered the Athena way)."""
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    dtypes = [str(d[1]) for d in cur.description]
    rows = [tuple(render(v) for v in row) for row in cur.fetchall()]
    return names, dtypes, rows


def make_duckdb(data_dir):
    athena_data.write_local(data_dir, N_EVENTS, SEED, decompress=True, lowercase_keys=True)
    return duckdb_connect(data_dir)


# --------------------------------------------------------------------------------------------
# summary (printed at the end of the pytest run)
# --------------------------------------------------------------------------------------------

_OUTCOMES = {}  # test name -> (outcome, detail)


class _SummaryPlugin:
    def pytest_runtest_logreport(self, report):
        if "test_athena_correctness.py" not in report.nodeid:
            return
        name = report.nodeid.split("::", 1)[-1]
        if report.when == "call" or report.outcome != "passed":
            if report.outcome == "passed":
                _OUTCOMES.setdefault(name, ("passed", ""))
            else:
                outcome = "skipped" if report.skipped else "error" if report.when != "call" else report.outcome
                detail = ""
                if report.longrepr is not None:
                    crash = getattr(report.longrepr, "reprcrash", None)
                    detail = (crash.message if crash else str(report.longrepr)).strip().splitlines()
                    detail = detail[0][:160] if detail else ""
                _OUTCOMES[name] = (outcome, detail)

    def pytest_terminal_summary(self, terminalreporter):
        if not _OUTCOMES:
            return
        tr = terminalreporter
        tr.section("Athena correctness vs DuckDB")
        groups = collections.defaultdict(collections.Counter)
        for name, (outcome, _) in _OUTCOMES.items():
            groups[name.split("[", 1)[0]][outcome] += 1
        for group, counts in sorted(groups.items()):
            tr.write_line(f"{group}: " + ", ".join(f"{n} {o}" for o, n in sorted(counts.items())))
        bad = [(n, o, d) for n, (o, d) in sorted(_OUTCOMES.items()) if o != "passed"]
        for name, outcome, detail in bad[:60]:
            tr.write_line(f"  {outcome:7} {name}: {detail}")
        if len(bad) > 60:
            tr.write_line(f"  ... and {len(bad) - 60} more")
        pairs = sum(1 for q in QUERIES if q.is_pair)
        tr.write_line(f"{len(QUERIES)} comparison queries ({pairs} written per dialect), {len(NEGATIVE)} negative")


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    pm = request.config.pluginmanager
    if not pm.has_plugin("athena-correctness-summary"):
        pm.register(_SummaryPlugin(), "athena-correctness-summary")
    yield


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def duck(tmp_path_factory):
    con = make_duckdb(tmp_path_factory.mktemp("athena-duckdb"))
    yield con
    con.close()


@pytest.fixture(scope="module")
def athena_env(firelocal_endpoint):
    from conftest import make_client

    s3 = make_client(firelocal_endpoint, "s3")
    bucket = f"ct-athena-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    keys = athena_data.upload_to_s3(s3, bucket, N_EVENTS, SEED)
    client = make_client(firelocal_endpoint, "athena")
    database = f"ct_{uuid.uuid4().hex[:12]}"
    runner = AthenaRunner(client, database, f"s3://{bucket}/results/")
    ddl = {}
    ddl["create_database"] = runner.run(f"CREATE DATABASE IF NOT EXISTS {database}", header=False, database="default")
    ddl["create_table"] = runner.run(TABLE_DDL.format(bucket=bucket), header=False)
    ddl["msck_repair"] = runner.run("MSCK REPAIR TABLE clicks", header=False)
    runner.s3 = s3
    runner.bucket = bucket
    runner.keys = keys
    runner.ddl = ddl
    runner.endpoint = firelocal_endpoint
    yield runner
    for sql in ("DROP TABLE IF EXISTS clicks", f"DROP DATABASE IF EXISTS {database}"):
        try:
            runner.run(sql, header=False)
        except Exception:  # best effort: the server is ephemeral anyway
            pass


# --------------------------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------------------------


def check_query(runner, con, query):
    """Runs `query` on both sides and asserts the results agree."""
    d_names, _, d_rows = duckdb_run(con, query.duckdb)
    res = runner.run(query.athena)
    assert len(res.columns) == len(d_names), f"column count: athena {res.columns}, duckdb {d_names}"
    assert res.columns == [n.lower() for n in d_names], f"column names: athena {res.columns}, duckdb {d_names}"
    if query.types is not None:
        assert [t.lower() for t in res.types] == query.types, f"ColumnInfo types {res.types}, Athena's are {query.types}"
    problems = compare_rows(res.types, res.rows, d_rows, query.ordered)
    assert not problems, (
        f"{query.id}: results differ ({len(res.rows)} athena rows, {len(d_rows)} duckdb rows; "
        f"{'in order' if query.ordered else 'as multisets'})\n  " + "\n  ".join(problems)
        + f"\n  athena sql: {query.athena}\n  duckdb sql: {query.duckdb}"
    )
    return res


@pytest.mark.parametrize("query", QUERIES, ids=[q.id for q in QUERIES])
def test_query_matches_duckdb(athena_env, duck, query):
    check_query(athena_env, duck, query)


@pytest.mark.parametrize("sql,reason", [n[1:] for n in NEGATIVE], ids=[n[0] for n in NEGATIVE])
def test_invalid_query_fails(athena_env, sql, reason):
    got = athena_env.failure_reason(sql)
    assert reason.lower() in got.lower(), f"failure reason {got!r} does not mention {reason!r}"


def test_ddl_statement_types(athena_env):
    """DDL runs report StatementType DDL; a SELECT reports DML."""
    for name, res in athena_env.ddl.items():
        assert res.execution.get("StatementType") == "DDL", (name, res.execution.get("StatementType"))
    res = athena_env.run("SELECT count(*) AS n FROM clicks")
    assert res.execution.get("StatementType") == "DML"
    assert res.execution["QueryExecutionContext"]["Database"] == athena_env.database


def test_partitions_registered(athena_env):
    """MSCK REPAIR TABLE found one partition per dt= prefix."""
    res = athena_env.run("SHOW PARTITIONS clicks", header=False)
    values = [r[0] for r in res.rows]
    if values and res.columns and values[0] == res.columns[0]:
        values = values[1:]
    assert sorted(values) == [f"dt={d}" for d in athena_data.DATES]


def test_unaliased_columns_are_named_like_athena(athena_env):
    """Athena names an unaliased expression _col<position> (0-based); a bare column keeps its name."""
    res = athena_env.run("SELECT count(*), max(time_spent) AS longest, page, lower(page) FROM clicks GROUP BY page")
    assert res.columns == ["_col0", "longest", "page", "_col3"]
    assert [t.lower() for t in res.types] == ["bigint", "integer", "varchar", "varchar"]


def test_empty_result_has_header_and_types(athena_env):
    res = athena_env.run("SELECT event_id, time_spent FROM clicks WHERE dt = '1999-01-01'")
    assert res.rows == []
    assert [t.lower() for t in res.types] == ["varchar", "integer"]


def test_result_csv_written_to_output_location(athena_env):
    """A SELECT's result is also a CSV object at OutputLocation/<QueryExecutionId>.csv: a header
    line, every value double-quoted, NULL as an empty unquoted field (clients that read results
    from S3, such as PyAthena's pandas/arrow cursors, rely on it)."""
    q = "SELECT event_id, user_id, price, tags FROM clicks WHERE dt = '2023-11-12' ORDER BY event_id"
    res = athena_env.run(q)
    location = res.execution["ResultConfiguration"]["OutputLocation"]
    assert location == f"s3://{athena_env.bucket}/results/{res.query_id}.csv"
    body = athena_env.s3.get_object(Bucket=athena_env.bucket, Key=f"results/{res.query_id}.csv")["Body"].read()

    def line(values):
        return ",".join("" if v is None else '"' + v.replace('"', '""') + '"' for v in values)

    lines = body.decode().splitlines()
    assert lines[0] == line(res.columns) == '"event_id","user_id","price","tags"'
    assert lines[1:] == [line(r) for r in res.rows]
    assert any(v is None for r in res.rows for v in r), "the partition has NULLs, so the CSV shows some"


def test_pyathena_cursor_types(athena_env, duck):
    """PyAthena's DB-API cursor converts by ColumnInfo type; its values equal DuckDB's."""
    import pyathena
    from conftest import ACCESS_KEY, REGION, SECRET_KEY

    sql = (
        "SELECT dt, count(*) AS n, avg(time_spent) AS mean, max(event_time) AS last_seen,"
        " CAST(max(event_time) AS date) AS day, bool_or(is_mobile) AS any_mobile,"
        " sum(CAST(price AS decimal(10, 2))) AS revenue FROM clicks GROUP BY dt ORDER BY dt"
    )
    conn = pyathena.connect(
        s3_staging_dir=athena_env.output_location,
        schema_name=athena_env.database,
        region_name=REGION,
        endpoint_url=athena_env.endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        poll_interval=0.1,
    )
    try:
        cur = conn.cursor()
        cur.execute(sql)
        got = cur.fetchall()
        desc = [(d[0], d[1]) for d in cur.description]
    finally:
        conn.close()
    assert desc == [
        ("dt", "varchar"), ("n", "bigint"), ("mean", "double"), ("last_seen", "timestamp"),
        ("day", "date"), ("any_mobile", "boolean"), ("revenue", "decimal"),
    ]
    want = duck.execute(sql).fetchall()
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g[0] == w[0] and g[1] == w[1] and g[3] == w[3] and g[4] == w[4] and g[5] == w[5] and g[6] == w[6], (g, w)
        assert math.isclose(g[2], w[2], rel_tol=REL_TOL), (g, w)


# --------------------------------------------------------------------------------------------
# running without firelocal
# --------------------------------------------------------------------------------------------

_DUCK_TO_ATHENA = {
    "BIGINT": "bigint", "HUGEINT": "bigint", "UBIGINT": "bigint", "INTEGER": "integer", "SMALLINT": "smallint",
    "TINYINT": "tinyint", "DOUBLE": "double", "FLOAT": "real", "VARCHAR": "varchar", "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamp with time zone", "DATE": "date",
}


def _athena_type_of(duck_type):
    if duck_type.endswith("[]"):
        return "array"
    if duck_type.startswith("DECIMAL"):
        return "decimal"
    return _DUCK_TO_ATHENA.get(duck_type, duck_type.lower())


class _FakeAthena:
    """Enough of the Athena API, answered by DuckDB, to exercise AthenaRunner: results come in
    pages of `page_size` rows (header row first), NULL as a Datum without VarCharValue."""

    def __init__(self, con, sql_map, page_size=7):
        self.con, self.sql_map, self.page_size = con, sql_map, page_size
        self.results = {}

    def start_query_execution(self, QueryString, QueryExecutionContext, ResultConfiguration):
        qid = str(uuid.uuid4())
        names, dtypes, rows = duckdb_run(self.con, self.sql_map[QueryString])
        info = [{"Name": n.lower(), "Label": n.lower(), "Type": _athena_type_of(t)} for n, t in zip(names, dtypes)]
        datums = [[{"VarCharValue": n.lower()} for n in names]]
        datums += [[{} if v is None else {"VarCharValue": v} for v in row] for row in rows]
        self.results[qid] = (info, datums)
        return {"QueryExecutionId": qid}

    def get_query_execution(self, QueryExecutionId):
        return {"QueryExecution": {"QueryExecutionId": QueryExecutionId, "StatementType": "DML",
                                   "Status": {"State": "SUCCEEDED"}}}

    def get_query_results(self, QueryExecutionId, MaxResults, NextToken=None):
        info, datums = self.results[QueryExecutionId]
        start = int(NextToken or 0)
        page = {"ResultSet": {"Rows": [{"Data": d} for d in datums[start : start + self.page_size]],
                              "ResultSetMetadata": {"ColumnInfo": info}}}
        if start + self.page_size < len(datums):
            page["NextToken"] = str(start + self.page_size)
        return page


def _main(argv):
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(description="Run the DuckDB side of the Athena correctness queries.")
    ap.add_argument("--duckdb-only", action="store_true", help="run every query's DuckDB SQL (the default)")
    ap.add_argument("--self-test", action="store_true", help="also run the Athena harness against a fake client")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the first rows of each result")
    args = ap.parse_args(argv)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        con = make_duckdb(tmp)
        for q in QUERIES:
            try:
                names, dtypes, rows = duckdb_run(con, q.duckdb)
            except Exception as e:  # noqa: BLE001
                failures += 1
                print(f"FAIL  {q.id}: {type(e).__name__}: {str(e).splitlines()[0]}")
                continue
            note = []
            if not rows:
                note.append("NO ROWS")
            if q.types is not None:
                mapped = [_athena_type_of(t) for t in dtypes]
                if mapped != q.types:
                    note.append(f"duckdb types {mapped} vs pinned Athena types {q.types}")
            if q.ordered and not ("ORDER BY" in q.athena.upper() and "ORDER BY" in q.duckdb.upper()):
                note.append("compared in order but has no ORDER BY")
            print(f"ok    {q.id}: {len(rows)} rows, {len(names)} cols {names}" + (f"  [{'; '.join(note)}]" if note else ""))
            if args.verbose:
                for row in rows[:3]:
                    print(f"        {row}")
        if args.self_test:
            sql_map = {q.athena: q.duckdb for q in QUERIES}
            runner = AthenaRunner(_FakeAthena(con, sql_map), "fake", "s3://fake/results/")
            for q in QUERIES:
                try:
                    check_query(runner, con, q)
                except AssertionError as e:
                    if q.types is not None and "ColumnInfo types" in str(e):
                        print(f"note  self-test {q.id}: {str(e).splitlines()[0]}")
                        continue
                    failures += 1
                    print(f"FAIL  self-test {q.id}: {e}")
            # The comparison must notice a wrong value, a missing row and a float beyond tolerance.
            assert compare_rows(["bigint"], [["1"], ["2"]], [("1",), ("3",)], False)
            assert compare_rows(["bigint"], [["1"]], [("1",), ("1",)], False)
            assert not compare_rows(["double"], [["1.0E7"], [None]], [(None,), ("10000000.000000002",)], False)
            assert compare_rows(["double"], [["1.5"]], [("1.5000001",)], False)
            assert compare_rows(["varchar"], [["a"], ["b"]], [("b",), ("a",)], True)
            print("self-test done")
        con.close()
    print(f"{len(QUERIES)} queries ({sum(q.is_pair for q in QUERIES)} dialect pairs), {len(NEGATIVE)} negative; "
          f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
