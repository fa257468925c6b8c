"""Clinic slot search: one doctor's free slots over 30 days with 10k appointments in the database.

    .venv/bin/python bench/slots.py                        # a throwaway PostgreSQL database on 127.0.0.1
    .venv/bin/python bench/slots.py --appointments 50000 --queries 300

Creates a fresh database (``--admin-url``, default postgresql://postgres@127.0.0.1:5432/postgres),
runs the migrations, creates a clinic (Asia/Almaty) with 20 doctors working every day 08:00–20:00
with a lunch break, then bulk-inserts the appointments over the past and next 180 days — the
measured doctor gets a share dense enough to fill most of his next 30 days. It then times
``webapp.clinic.services.slots.compute_slots`` (what the API, the bot's calendar and the booking
check call) for a 30-day window starting at random days, and ``day_slots`` for single days, and
prints p50/p95/max per query kind. The database is dropped at the end unless ``--keep``.
Target: p95 under 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DOCTORS = 20
HORIZON_DAYS = 180
PATIENTS = 500
STEP_MINUTES = 30


def create_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"botdesk_bench_slots_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    return name, f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build_clinic():
    from webapp.clinic.models import Branch, Clinic, Doctor, DoctorSchedule, Patient, Service
    from webapp.core.tenancy import ensure_organization
    from webapp.extensions import db

    organization = ensure_organization("Bench clinic")
    clinic = Clinic(name="Bench clinic", timezone="Asia/Almaty", organization_id=organization.id)
    branch = Branch(clinic=clinic, name="Main")
    service = Service(clinic=clinic, name="Consultation", duration_minutes=30, price=Decimal("5000"), branches=[branch])
    doctors = []
    for n in range(DOCTORS):
        doctor = Doctor(
            clinic=clinic,
            full_name=f"Doctor {n}",
            slot_step_minutes=STEP_MINUTES,
            branches=[branch],
            services=[service],
        )
        for weekday in range(7):
            doctor.schedules.append(
                DoctorSchedule(
                    branch=branch,
                    weekday=weekday,
                    start_time=clock_time(8),
                    end_time=clock_time(20),
                    break_start=clock_time(13),
                    break_end=clock_time(14),
                )
            )
        doctors.append(doctor)
    db.session.add_all([clinic, branch, service, *doctors])
    db.session.flush()
    db.session.add_all(
        Patient(
            organization_id=organization.id,
            first_name="P",
            last_name=str(n),
            phone="+77010000000",
            birth_date=date(1990, 1, 1),
            sex="M",
        )
        for n in range(PATIENTS)
    )
    db.session.commit()
    patient_ids = list(db.session.scalars(db.select(Patient.id)))
    return service, branch, doctors, patient_ids


def fill(appointments: int, doctors, service, branch, patient_ids, today: date, seed: int) -> int:
    """Bulk rows straight through SQLAlchemy Core, one start time per doctor and grid slot."""
    from zoneinfo import ZoneInfo

    from webapp.clinic.models import Appointment
    from webapp.extensions import db

    rng = random.Random(seed)
    tz = ZoneInfo("Asia/Almaty")
    grid = [
        clock_time(h, m) for h in range(8, 20) for m in range(0, 60, STEP_MINUTES) if not 13 <= h < 14
    ]  # 22 slots a day
    measured = doctors[0]
    # The measured doctor: ~80% of the slots of his next 30 days, the rest spread over everyone.
    dense = [(measured.id, today + timedelta(days=d), t) for d in range(30) for t in grid if rng.random() < 0.8]
    taken = set(dense)
    while len(taken) < appointments:
        doctor = rng.choice(doctors)
        day = today + timedelta(days=rng.randint(-HORIZON_DAYS, HORIZON_DAYS))
        taken.add((doctor.id, day, rng.choice(grid)))
    now = datetime.now(UTC)
    rows = []
    for doctor_id, day, at in list(taken)[:appointments]:
        starts = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
        rows.append(
            {
                "patient_id": rng.choice(patient_ids),
                "doctor_id": doctor_id,
                "service_id": service.id,
                "branch_id": branch.id,
                "starts_at": starts,
                "ends_at": starts + timedelta(minutes=30),
                "status": "completed" if starts < now else rng.choice(("booked", "confirmed")),
                "prepayment_status": "none",
                "price": Decimal("5000"),
                "source": "bench",
                "booked_at": now - timedelta(days=200),
                "rescheduled_count": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    for index in range(0, len(rows), 5000):
        db.session.execute(db.insert(Appointment), rows[index : index + 5000])
    db.session.commit()
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()
    return len(rows)


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(
        f"{name:<32} n={len(ordered):<5} p50={statistics.median(ordered):7.2f} ms  "
        f"p95={p95:7.2f} ms  max={ordered[-1]:7.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--admin-url", default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--appointments", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    name, url = create_database(args.admin_url)
    os.environ.setdefault("BOTDESK_INSTANCE_DIR", tempfile.mkdtemp(prefix="botdesk-bench-"))
    try:
        from flask_migrate import upgrade

        from webapp import create_app
        from webapp.clinic.services.slots import compute_slots, day_slots
        from webapp.extensions import db

        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": "", "SANDBOX_ENABLED": False})
        with app.app_context():
            upgrade(revision="heads")
            today = datetime.now(UTC).date()
            service, branch, doctors, patients = build_clinic()
            started = time.perf_counter()
            count = fill(args.appointments, doctors, service, branch, patients, today, args.seed)
            print(f"{count} appointments for {DOCTORS} doctors inserted in {time.perf_counter() - started:.1f} s")
            doctor = doctors[0]
            rng = random.Random(args.seed)
            now = datetime.now(UTC)
            month, single = [], []
            free = 0
            for _ in range(args.queries):
                first = today + timedelta(days=rng.randint(0, 10))
                db.session.expire_all()  # measure reads from the database, not the identity map
                month.append(
                    timed(
                        lambda first=first: compute_slots(
                            doctor, first, first + timedelta(days=29), service=service, now=now
                        )
                    )
                )
                day = today + timedelta(days=rng.randint(0, 29))
                single.append(timed(lambda day=day: day_slots(doctor, day, service=service, now=now)))
            for slots in compute_slots(doctor, today, today + timedelta(days=29), service=service, now=now).values():
                free += sum(s.available for s in slots)
            print(f"measured doctor: {free} free slots in the next 30 days")
            report("30-day slot search (one doctor)", month)
            report("one-day slot search", single)
            p95 = sorted(month)[max(0, int(len(month) * 0.95) - 1)]
            print(f"target p95 < 50 ms for the 30-day search: {'met' if p95 < 50 else 'NOT met'}")
            db.session.remove()
            db.engine.dispose()
    finally:
        if not args.keep:
            drop_database(args.admin_url, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
