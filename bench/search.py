"""Realty search over a large catalogue: 100k listings, 1M booked nights (defaults).

    .venv/bin/python bench/search.py                       # a throwaway PostgreSQL database on 127.0.0.1
    .venv/bin/python bench/search.py --listings 20000 --nights 200000 --queries 200

Creates a fresh database (``--admin-url``, default postgresql://postgres@127.0.0.1:5432/postgres),
runs the migrations, fills it with generated listings (3 cities, 12 districts, amenities) and
booked nights in the next 180 days, then times ``webapp.realty.services.listings.search`` — the
code the API and the bot call — for random filter mixes (city + dates always; price, guests,
amenities sometimes) and prints p50/p95/max per query kind. The database is dropped at the end
unless ``--keep``. Target: p95 under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CITIES = {
    "Tashkent": ("Yunusabad", "Chilanzar", "Mirzo Ulugbek", "Shaykhantahur"),
    "Almaty": ("Medeu", "Bostandyk", "Almaly", "Auezov"),
    "Astana": ("Yesil", "Saryarka", "Baikonur", "Nura"),
}
AMENITIES = ("wifi", "kitchen", "parking", "air_conditioning", "washer", "tv", "balcony", "pool")
HORIZON_DAYS = 180


def create_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"botdesk_bench_search_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    return name, f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(listings: int, nights: int, seed: int) -> None:
    """Bulk data straight in SQL: generating a million rows through the ORM would take minutes."""
    from webapp.extensions import db

    rng = random.Random(seed)
    today = date.today()
    conn = db.session.connection()
    conn.exec_driver_sql(
        "INSERT INTO realty_agencies (name, city, timezone, currency, is_active, created_at, updated_at) "
        "SELECT 'Bench agency ' || g, 'Tashkent', 'Asia/Tashkent', 'UZS', true, now(), now() "
        "FROM generate_series(1, 50) g"
    )
    cities = list(CITIES)
    rows = []
    for n in range(listings):
        city = cities[n % len(cities)]
        rows.append(
            (
                n % 50 + 1,
                f"Flat {n}",
                city,
                CITIES[city][rng.randrange(4)],
                Decimal(rng.randrange(20, 400)),
                rng.randint(1, 8),
                "approved" if rng.random() < 0.9 else "pending",
                rng.random() < 0.95,
            )
        )
    with conn.connection.cursor() as cursor:
        with cursor.copy(
            "COPY realty_listings (agency_id, title, city, district, price_per_night, max_guests, status, is_active, "
            "description, photos, created_at, updated_at) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row((*row, "", "[]", "now", "now"))
        with cursor.copy("COPY realty_listing_amenities (listing_id, amenity) FROM STDIN") as copy:
            for listing_id in range(1, listings + 1):
                for amenity in rng.sample(AMENITIES, rng.randint(1, 4)):
                    copy.write_row((listing_id, amenity))
        # Booked nights, attributed to one availability block (the one-owner check wants an owner):
        # stays of 1–7 nights at random listings and dates, without overlaps.
        cursor.execute(
            "INSERT INTO realty_availability_blocks (id, listing_id, date_from, date_to, created_at) "
            "VALUES (1, 1, %s, %s, now())",
            (today, today + timedelta(days=1)),
        )
        taken: set[tuple[int, date]] = set()
        with cursor.copy("COPY realty_occupied_nights (listing_id, night, block_id) FROM STDIN") as copy:
            while len(taken) < nights:
                listing_id = rng.randint(1, listings)
                start = today + timedelta(days=rng.randrange(HORIZON_DAYS))
                for offset in range(rng.randint(1, 7)):
                    key = (listing_id, start + timedelta(days=offset))
                    if key not in taken:
                        taken.add(key)
                        copy.write_row((listing_id, key[1], 1))
    db.session.commit()
    # Fresh statistics and visibility maps, as autovacuum would leave them: index-only scans need both.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as autocommit:
        autocommit.exec_driver_sql("VACUUM ANALYZE")


def run_queries(count: int, seed: int) -> dict[str, list[float]]:
    from webapp.extensions import db
    from webapp.realty.services.listings import SearchFilters, search

    rng = random.Random(seed + 1)
    today = date.today()
    timings: dict[str, list[float]] = {}
    for _ in range(count):
        check_in = today + timedelta(days=rng.randrange(HORIZON_DAYS - 10))
        filters = SearchFilters(
            city=rng.choice(list(CITIES)), check_in=check_in, check_out=check_in + timedelta(days=rng.randint(1, 7))
        )
        kind = ["city+dates"]
        if rng.random() < 0.5:
            low = rng.randrange(20, 300)
            filters.price_min, filters.price_max = Decimal(low), Decimal(low + rng.randrange(20, 150))
            kind.append("price")
        if rng.random() < 0.4:
            filters.guests = rng.randint(2, 6)
            kind.append("guests")
        if rng.random() < 0.3:
            filters.amenities = rng.sample(AMENITIES, rng.randint(1, 2))
            kind.append("amenities")
        if rng.random() < 0.3:
            filters.sort = "price_desc"
        started = time.perf_counter()
        search(filters, page=rng.randint(1, 3), size=10)
        elapsed = (time.perf_counter() - started) * 1000
        db.session.rollback()
        timings.setdefault("+".join(kind), []).append(elapsed)
        timings.setdefault("all", []).append(elapsed)
    return timings


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--nights", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--admin-url", default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from webapp import create_app

    name, url = create_database(args.admin_url)
    os.environ.setdefault("BOTDESK_INSTANCE_DIR", tempfile.mkdtemp(prefix="botdesk-bench-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": ""})
    try:
        with app.app_context():
            upgrade(revision="heads")
            started = time.perf_counter()
            fill(args.listings, args.nights, args.seed)
            took = time.perf_counter() - started
            print(f"filled {args.listings} listings and {args.nights} booked nights in {took:.1f}s")
            search_timings = run_queries(args.queries, args.seed)
            from webapp.extensions import db

            db.engine.dispose()
    finally:
        if not args.keep:
            drop_database(args.admin_url, name)
    print(f"{'query':38} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, values in sorted(search_timings.items(), key=lambda item: (item[0] != "all", item[0])):
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        print(f"{kind:38} {len(values):5d} {p50:8.1f} {p95:8.1f} {max(values):8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
