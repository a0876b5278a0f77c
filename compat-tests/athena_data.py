"""Deterministic clickstream data for the Athena tests, laid out the way Firehose delivers it.

The seed pipeline (API Gateway -> Firehose -> S3) writes newline-delimited JSON objects, one
event per line, under Hive-style date partitions. This module generates the same shape:

    events/dt=2023-11-12/part-0001.json
    events/dt=2023-11-12/part-0002.json
    events/dt=2023-11-12/part-0003.json.gz   <- whole object GZIP-compressed, as Firehose's GZIP
    events/dt=2023-11-13/part-0001.json
    ...

Every event has these fields (the column types are the Athena table's):

    event_id         string   uuid-like, unique
    session_id       string   several events per session; a session lies within one date
    user_id          bigint   null (JSON null) or missing for anonymous sessions
    element_clicked  string   one of ELEMENTS
    page             string   '/products/12', '/cart', ...
    time_spent       int      milliseconds, 0..60000
    price            double   missing (or null) on most non-product pages; sometimes integral
    is_mobile        boolean  per session
    event_time       string   'YYYY-MM-DD HH:MM:SS' inside the partition's date
    tags             array    0-3 distinct strings from TAGS; missing on a few events

A few events spell some field names in another case (e.g. `Element_Clicked`; Hive's
JsonSerDe matches names case-insensitively), and a few carry an extra field that no column
names (a string `referrer` or an object `experiment`), which the SerDe ignores.

Everything comes from one seeded `random.Random`: the same (n, seed, dates, files_per_date)
always gives byte-identical objects (GZIP is written with mtime 0).

    python athena_data.py --out DIR [--n 3000] [--seed 1114] [--plain]
    python athena_data.py --bucket NAME --endpoint http://127.0.0.1:4566
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import uuid
from collections import defaultdict
from pathlib import Path

DEFAULT_N = 3000
DEFAULT_SEED = 1114
DEFAULT_PREFIX = "events/"
# Deliberately uneven volumes, so that partition filters change results.
DATES = ("2023-11-12", "2023-11-13", "2023-11-14", "2023-11-15", "2023-11-16")
DATE_WEIGHTS = (1, 3, 5, 2, 4)
FILES_PER_DATE = 3

ELEMENTS = (
    "add_to_cart",
    "buy_now",
    "product_image",
    "search",
    "nav_home",
    "nav_category",
    "checkout",
    "remove_from_cart",
)
ELEMENT_WEIGHTS = (20, 6, 18, 14, 12, 12, 8, 4)
TAGS = ("sale", "new", "featured", "clearance", "mobile_app", "promo")
OTHER_PAGES = ("/", "/cart", "/checkout", "/search", "/category/shoes", "/category/bags")
N_USERS = 250
N_PRODUCTS = 40

# Renames applied to the few "mixed case" events: the JSON key is written with this spelling.
CASE_VARIANTS = {
    "element_clicked": "Element_Clicked",
    "user_id": "USER_ID",
    "page": "Page",
    "time_spent": "Time_Spent",
    "is_mobile": "IS_MOBILE",
}


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def generate_events(n: int = DEFAULT_N, seed: int = DEFAULT_SEED, dates=DATES, weights=None):
    """Returns `n` events as a list of (dt, record) pairs, record being the dict exactly as it
    is to be serialised (field names possibly in another case, extra fields included, absent
    fields absent). Records are in event_time order within each date."""
    rng = random.Random(seed)
    weights = weights if weights is not None else (DATE_WEIGHTS if tuple(dates) == DATES else None)
    by_date = defaultdict(list)
    made = 0
    while made < n:
        dt = rng.choices(dates, weights=weights)[0] if weights else rng.choice(dates)
        session_id = f"s-{rng.getrandbits(40):010x}"
        anonymous = rng.random() < 0.12
        user_id = None if anonymous else rng.randint(1, N_USERS)
        is_mobile = rng.random() < 0.45
        n_events = min(rng.randint(1, 9), n - made)
        # Start early enough that the whole session stays inside the date.
        t = rng.randint(0, 86399 - 9 * 300)
        for _ in range(n_events):
            t += rng.randint(0, 300)
            element = rng.choices(ELEMENTS, weights=ELEMENT_WEIGHTS)[0]
            if element in ("add_to_cart", "buy_now", "product_image", "remove_from_cart") or rng.random() < 0.3:
                page = f"/products/{rng.randint(1, N_PRODUCTS)}"
            else:
                page = rng.choice(OTHER_PAGES)
            rec = {
                "event_id": _uuid(rng),
                "session_id": session_id,
                "user_id": user_id,
                "element_clicked": element,
                "page": page,
                "time_spent": 0 if rng.random() < 0.03 else rng.randint(1, 60000),
                "price": None,
                "is_mobile": is_mobile,
                "event_time": f"{dt} {_hms(t)}",
                "tags": rng.sample(TAGS, rng.choice((0, 0, 1, 1, 1, 2, 2, 3))),
            }
            # user_id: anonymous events carry either an explicit null or no key at all.
            if user_id is None and rng.random() < 0.5:
                del rec["user_id"]
            # price: present on product pages; an explicit null or absent elsewhere.
            if page.startswith("/products/"):
                p = round(rng.uniform(0.99, 999.99), 2)
                r = rng.random()
                # A few whole prices, some written as JSON integers ("12") in a double column.
                rec["price"] = int(p) if r < 0.04 else float(int(p)) if r < 0.08 else p
            elif rng.random() < 0.7:
                del rec["price"]
            if rng.random() < 0.02:
                del rec["tags"]
            if rng.random() < 0.015:
                rec = {CASE_VARIANTS.get(k, k): v for k, v in rec.items()}
            if rng.random() < 0.015:
                if rng.random() < 0.5:
                    rec["referrer"] = rng.choice(("https://example.com/", "https://search.example/?q=shoes"))
                else:
                    rec["experiment"] = {"id": rng.randint(1, 5), "arm": rng.choice(("a", "b"))}
            by_date[dt].append((t, rec))
            made += 1
    out = []
    for dt in sorted(by_date):
        out.extend((dt, rec) for _, rec in sorted(by_date[dt], key=lambda x: x[0]))
    return out


def _lower_keys(rec: dict) -> dict:
    return {k.lower(): v for k, v in rec.items()}


def build_objects(
    n: int = DEFAULT_N,
    seed: int = DEFAULT_SEED,
    *,
    dates=DATES,
    files_per_date: int = FILES_PER_DATE,
    prefix: str = DEFAULT_PREFIX,
    compress: bool = True,
    lowercase_keys: bool = False,
) -> dict:
    """Returns {key: body bytes} for the generated events.

    Each date's events are split, in time order, into `files_per_date` parts; with `compress`
    the last part of each date is GZIP-compressed and its key ends in `.json.gz`, otherwise it
    is plain `.json` like the others. `lowercase_keys` rewrites every field name in lower case
    (for readers that, unlike Hive's JsonSerDe, match names case-sensitively)."""
    by_date = defaultdict(list)
    for dt, rec in generate_events(n, seed, dates):
        by_date[dt].append(_lower_keys(rec) if lowercase_keys else rec)
    objects = {}
    for dt in sorted(by_date):
        recs = by_date[dt]
        parts = max(1, min(files_per_date, len(recs)))
        size = -(-len(recs) // parts)
        for i in range(parts):
            chunk = recs[i * size : (i + 1) * size]
            if not chunk:
                continue
            body = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in chunk).encode()
            key = f"{prefix}dt={dt}/part-{i + 1:04d}.json"
            if compress and i == parts - 1 and parts > 1:
                key += ".gz"
                body = gzip.compress(body, mtime=0)
            objects[key] = body
    return objects


def write_local(directory, n: int = DEFAULT_N, seed: int = DEFAULT_SEED, *, decompress: bool = False,
                lowercase_keys: bool = False, **kwargs) -> list:
    """Writes the objects under `directory` (keys become relative paths) and returns the paths.

    `decompress=True` writes the GZIP part uncompressed, without its `.gz` suffix."""
    root = Path(directory)
    paths = []
    objects = build_objects(n, seed, compress=not decompress, lowercase_keys=lowercase_keys, **kwargs)
    for key, body in objects.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        paths.append(path)
    return paths


def upload_to_s3(s3_client, bucket: str, n: int = DEFAULT_N, seed: int = DEFAULT_SEED, **kwargs) -> list:
    """PUTs the objects (GZIP part compressed, original field-name case) into `bucket` with a
    boto3 S3 client and returns the keys. The bucket must exist."""
    objects = build_objects(n, seed, **kwargs)
    for key, body in objects.items():
        extra = {"ContentType": "application/octet-stream"} if key.endswith(".gz") else {"ContentType": "application/json"}
        s3_client.put_object(Bucket=bucket, Key=key, Body=body, **extra)
    return list(objects)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=DEFAULT_N)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", help="write the objects under this directory")
    ap.add_argument("--plain", action="store_true", help="with --out: no GZIP part, lower-case field names")
    ap.add_argument("--bucket", help="upload the objects to this (existing) bucket")
    ap.add_argument("--endpoint", help="S3 endpoint URL for --bucket (e.g. firelocal's)")
    args = ap.parse_args(argv)
    if not args.out and not args.bucket:
        ap.error("give --out and/or --bucket")
    if args.out:
        paths = write_local(args.out, args.n, args.seed, decompress=args.plain, lowercase_keys=args.plain)
        print(f"wrote {len(paths)} files under {args.out}")
    if args.bucket:
        import boto3
        from botocore.config import Config

        s3 = boto3.client(
            "s3",
            endpoint_url=args.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test" if args.endpoint else None,
            aws_secret_access_key="test" if args.endpoint else None,
            config=Config(s3={"addressing_style": "path"}),
        )
        keys = upload_to_s3(s3, args.bucket, args.n, args.seed)
        print(f"uploaded {len(keys)} objects to s3://{args.bucket}/{DEFAULT_PREFIX}")


if __name__ == "__main__":
    main()
