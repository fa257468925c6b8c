"""Seed 002's example segment over a million clinic patients: today's query (driven by the visit
summaries' copies of the patient fields, migration 0019) against the patients' join it replaced,
the query and index issue 15 started from, and the per-patient aggregate before that, on the same
data in one run.

    .venv/bin/python bench/segments.py                     # 1,000,000 patients, PostgreSQL on 127.0.0.1
    .venv/bin/python bench/segments.py --patients 200000 --runs 7

Creates a throwaway database (``--admin-url``), runs the migrations, makes a clinic bot with its
clinic, and generates in PostgreSQL (INSERT … SELECT over generate_series) that many platform
users, each with an account on the bot and a patient record, and 0–6 appointments per patient over
about two years (mostly completed; some arrived, cancelled, no-show). The visit summaries are then
filled by one INSERT … SELECT over the same aggregates the booking service keeps them with
(``clinic.services.visits.summary_columns``). After VACUUM ANALYZE (what autovacuum does soon after a
bulk load) it counts the seed's example segment ``--runs`` times each way and times the console's
preview (count, who is left out, sample); then it puts the patients' index back as issue 15 found it
(no organization_id) and counts the way that code did ("services used" from the appointments). It
checks every way gives the same number and prints each run, the medians and the ratios
(``--explain``: the count's plan too). The database is dropped at the end, unless ``--keep NAME``:
then the database NAME is built once (with the migrations of that day, upgraded by later runs) and
kept, and later runs with the same NAME and ``--patients`` skip the several minutes of generating.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tickets_api import create_database, drop_database  # noqa: E402

TARGET_SECONDS = 0.3
DEFAULT_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SEED_EXAMPLE = {
    "age_min": 18,
    "age_max": 65,
    "sex": "F",
    "services": [1, 5, 7],  # replaced by the 1st, 5th and 7th of the generated clinic's services
    "osms_status": "insured",
    "last_visit_from": "2025-01-01",
    "min_visits": 3,
}

# g: 1..n. A patient's k-th appointment starts at a distinct second (one live slot each), the
# patients shuffled over time by a multiplication modulo a prime, so visit dates do not follow ids.
GENERATE = [
    """INSERT INTO users (id, first_name, language, role, is_active, created_at, updated_at)
       SELECT md5('seg-' || g)::uuid, 'Patient ' || g, 'ru', 'user', true, now(), now()
       FROM generate_series(1, :n) g""",
    """INSERT INTO telegram_accounts (user_id, bot_id, telegram_user_id, chat_id, language, blocked_bot,
           created_at, messages_count, voice_messages_count, commands_executed)
       SELECT md5('seg-' || g)::uuid, :bot, 9000000000 + g, 9000000000 + g, 'ru', g % 101 = 0, now(), 0, 0, 0
       FROM generate_series(1, :n) g""",
    """INSERT INTO clinic_patients (organization_id, user_id, first_name, last_name, phone, birth_date, sex, language,
           osms_status, consent_marketing_at, is_active, created_at, updated_at)
       SELECT :organization, md5('seg-' || g)::uuid, 'Patient', 'N' || g, '+7701' || lpad(g::text, 7, '0'),
           date '1940-01-01' + ((g::bigint * 7919) % 30000)::int,
           CASE WHEN g % 2 = 0 THEN 'F' ELSE 'M' END, 'ru',
           (ARRAY['insured', 'not_insured', 'unknown'])[1 + (g * 31) % 3],
           CASE WHEN g % 7 <> 0 THEN now() END, g % 53 <> 0, now(), now()
       FROM generate_series(1, :n) g""",
    """INSERT INTO clinic_appointments (patient_id, doctor_id, service_id, branch_id, starts_at, ends_at,
           status, prepayment_status, price, source, booked_at, rescheduled_count, created_at, updated_at)
       SELECT p.id, :doctor, (:services)[1 + (p.id * 13 + k * 7) % 10], :branch,
           timestamptz '2023-12-01 00:00+00' + (((p.id::bigint * 1000003) % 9999991) * 7 + k) * interval '1 second',
           timestamptz '2023-12-01 00:30+00' + (((p.id::bigint * 1000003) % 9999991) * 7 + k) * interval '1 second',
           CASE (p.id * 17 + k * 5) % 20 WHEN 0 THEN 'cancelled' WHEN 1 THEN 'cancelled' WHEN 2 THEN 'no_show'
               WHEN 3 THEN 'arrived' ELSE 'completed' END,
           'none', 0, 'bench', now(), 0, now(), now()
       FROM clinic_patients p CROSS JOIN generate_series(0, 5) k
       WHERE k < (p.id * 2654435761) % 7""",
]


# The summaries' copies of their patients' fields (clinic.models.copy_patient_fields), as migration
# 0019 backfills them: one join rather than a sub-select per field and row.
COPY_PATIENT_FIELDS = """
    UPDATE clinic_visit_summaries s SET user_id = p.user_id, organization_id = p.organization_id, sex = p.sex,
        osms_status = p.osms_status, birth_date = p.birth_date,
        marketable = (p.is_active AND p.consent_marketing_at IS NOT NULL)
    FROM clinic_patients p WHERE p.id = s.patient_id"""


def build(app, patients: int) -> tuple[int, list[int]]:
    """The bot, its clinic, and the generated patients; returns the bot id and the service ids."""
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import ARRAY

    from webapp.clinic.models import VISITED, Appointment, Branch, Clinic, Doctor, Service, VisitSummary
    from webapp.clinic.services.visits import summary_columns
    from webapp.core.tenancy import ensure_organization
    from webapp.extensions import db
    from webapp.telegram.models import Bot
    from webapp.telegram.tokens import set_bot_token

    with app.app_context():
        organization = ensure_organization("Bench clinic")
        bot = Bot(name="segments_bench", vertical="clinic", organization_id=organization.id)
        set_bot_token(bot, f"{int(time.time())}:{uuid.uuid4().hex}")
        db.session.add(bot)
        db.session.flush()
        clinic = Clinic(name="Bench clinic", bot_id=bot.id, timezone="Asia/Almaty", organization_id=organization.id)
        db.session.add(clinic)
        db.session.flush()
        branch = Branch(clinic_id=clinic.id, name="Main")
        doctor = Doctor(clinic_id=clinic.id, full_name="Dr Bench")
        services = [Service(clinic_id=clinic.id, name=f"Service {n}") for n in range(10)]
        db.session.add_all([branch, doctor, *services])
        db.session.flush()
        params = {
            "n": patients,
            "bot": bot.id,
            "organization": organization.id,
            "doctor": doctor.id,
            "branch": branch.id,
            "services": [s.id for s in services],
        }
        for statement in GENERATE:
            db.session.execute(sa.text(statement), params)
        per_patient = (
            sa.select(Appointment.patient_id, Branch.clinic_id, *summary_columns())
            .join(Branch, Branch.id == Appointment.branch_id)
            .group_by(Appointment.patient_id, Branch.clinic_id)
        )
        used = sa.func.array_agg(sa.distinct(Appointment.service_id)).filter(Appointment.status.in_(VISITED))
        per_patient = per_patient.add_columns(sa.func.coalesce(used, sa.literal([], ARRAY(sa.Integer))))
        names = ["patient_id", "clinic_id", "visits", "first_visit_at", "last_visit_at", "no_shows", "cancellations"]
        db.session.execute(sa.insert(VisitSummary).from_select([*names, "service_ids"], per_patient))
        db.session.execute(sa.text(COPY_PATIENT_FIELDS))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        return bot.id, params["services"]


def patients_join_count(bot, filters) -> int:
    """The query before migration 0019 (the main branch's): the marketable patients of the bot's
    organization from their index, hash-joined with every summary of the clinic that matches the
    visit filters (``restrict_to_patients(summary_first=False)``)."""
    from webapp.broadcasts.services import segments
    from webapp.extensions import db

    query = patients_join(bot, filters)
    segments.without_jit()
    return db.session.scalar(query) or 0


def patients_join(bot, filters):
    """The count's select with the patient row joined (as before migration 0019), whatever the filters."""
    from unittest import mock

    import sqlalchemy as sa

    from webapp.broadcasts.services import clinic_segments, segments

    def patients_first(query, filters, tz, bot, reachable):
        return clinic_segments.restrict_to_patients(query, filters, tz, bot, reachable, summary_first=False)

    with mock.patch.dict(segments.VERTICAL_COMPILERS, {"clinic": patients_first}):
        return segments.audience_select(bot, filters, sa.func.count())


def aggregate_count(bot, filters) -> int:
    """The query before the visit summary: each candidate patient's visits aggregated from the
    appointments (one index-only range scan per patient, through LATERAL), as it was built."""
    import sqlalchemy as sa

    from webapp.broadcasts.services import segments
    from webapp.clinic import models as clinic
    from webapp.clinic.models import Appointment, Patient
    from webapp.extensions import db

    visit_fields = {"services": None, "min_visits": None, "last_visit_from": None, "last_visit_to": None}
    query = segments.audience_select(bot, filters.model_copy(update=visit_fields), sa.func.count())
    clinic_id = db.session.scalar(sa.select(clinic.Clinic.id).where(clinic.Clinic.bot_id == bot.id))
    branches = list(db.session.scalars(sa.select(clinic.Branch.id).where(clinic.Branch.clinic_id == clinic_id)))
    columns = [sa.func.count().label("visits"), sa.func.max(Appointment.starts_at).label("last_visit")]
    if filters.services:
        columns.append(sa.func.bool_or(Appointment.service_id.in_(filters.services)).label("used"))
    visits = (
        sa.select(*columns)
        .where(
            Appointment.patient_id == Patient.id,
            Appointment.status.in_(clinic.VISITED),
            Appointment.branch_id.in_(branches),
        )
        .lateral("visits")
    )
    query = query.join(visits, sa.true())
    if filters.services:
        query = query.where(visits.c.used.is_(True))
    if filters.min_visits is not None:
        query = query.where(visits.c.visits >= filters.min_visits)
    tz = segments._timezone(bot)
    query = query.where(*segments._range(visits.c.last_visit, filters.last_visit_from, filters.last_visit_to, tz))
    segments.without_jit()
    return db.session.scalar(query) or 0


def previous_count(bot, filters) -> int:
    """Issue 15's starting point, for the same count: "services used" as an EXISTS over each
    candidate's visited appointments (run while the patients' index is as it was, ``PREVIOUS_INDEX``)."""
    import sqlalchemy as sa

    from webapp.broadcasts.services import segments
    from webapp.clinic import models as clinic
    from webapp.clinic.models import Appointment, Patient
    from webapp.extensions import db

    query = patients_join(bot, filters.model_copy(update={"services": None}))
    clinic_id = db.session.scalar(sa.select(clinic.Clinic.id).where(clinic.Clinic.bot_id == bot.id))
    used = sa.exists().where(
        Appointment.patient_id == Patient.id,
        Appointment.service_id.in_(filters.services),
        Appointment.status.in_(clinic.VISITED),
        Appointment.branch_id.in_(sa.select(clinic.Branch.id).where(clinic.Branch.clinic_id == clinic_id)),
    )
    segments.without_jit()
    return db.session.scalar(query.where(used)) or 0


MARKETABLE_INDEX = "ix_clinic_patients_marketable"
PREVIOUS_INDEX = (
    f"CREATE INDEX {MARKETABLE_INDEX} ON clinic_patients (sex, osms_status, birth_date) INCLUDE (id, user_id)"
    " WHERE is_active AND consent_marketing_at IS NOT NULL"
)


def timed(ways: dict, runs: int) -> tuple[dict[str, float], dict[str, set[int]]]:
    """Each way ``runs`` times, interleaved; prints every run, returns the medians and the results."""
    from webapp.extensions import db

    timings: dict[str, list[float]] = {name: [] for name in ways}
    results: dict[str, set] = {name: set() for name in ways}
    for run in range(runs):
        line = []
        for name, way in ways.items():
            started = time.perf_counter()
            results[name].add(way())
            timings[name].append(time.perf_counter() - started)
            db.session.commit()
            line.append(f"{name} {timings[name][-1]:.3f} s")
        print(f"run {run + 1}: " + "; ".join(line))
    return {name: statistics.median(t) for name, t in timings.items()}, results


def explain(query) -> str:
    import sqlalchemy as sa

    from webapp.broadcasts.services import segments
    from webapp.extensions import db

    segments.without_jit()
    sql = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = "\n".join(db.session.scalars(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")))
    db.session.commit()
    return plan


def restore_marketable_index() -> None:
    import sqlalchemy as sa

    from webapp.clinic.models import Patient
    from webapp.extensions import db

    index = next(i for i in Patient.__table__.indexes if i.name == MARKETABLE_INDEX)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {MARKETABLE_INDEX}")
        connection.execute(sa.schema.CreateIndex(index))
        connection.exec_driver_sql("ANALYZE clinic_patients")


def measure(app, bot_id: int, service_ids: list[int], runs: int, show_plans: bool = False) -> None:
    import sqlalchemy as sa

    from webapp.broadcasts.services import segments
    from webapp.extensions import db
    from webapp.telegram.models import Bot

    with app.app_context():
        bot = db.session.get(Bot, bot_id)
        example = dict(SEED_EXAMPLE, services=[service_ids[0], service_ids[4], service_ids[6]])
        filters = segments.parse_filters(example, bot)
        ways = {
            "visit summary (now)": lambda: segments.audience_count(bot, filters),
            "patients join (before 0019)": lambda: patients_join_count(bot, filters),
            "aggregate per patient (0006 before)": lambda: aggregate_count(bot, filters),
            "preview (now)": lambda: len(segments.preview(bot, example)["sample"]),
        }
        medians, results = timed(ways, runs)
        if show_plans:
            print("--- EXPLAIN count (now)\n" + explain(segments.audience_select(bot, filters, sa.func.count())))
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        # Issue 15's starting point: the marketable index without organization_id, services from appointments.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"DROP INDEX {MARKETABLE_INDEX}")
            connection.exec_driver_sql(PREVIOUS_INDEX)
            connection.exec_driver_sql("ANALYZE clinic_patients")
        try:
            before, before_results = timed({"issue 15 before": lambda: previous_count(bot, filters)}, runs)
        finally:  # the index as the models define it again, for a kept database's next run
            restore_marketable_index()
        medians.update(before)
        results.update(before_results)

        counts = {name: results[name] for name in medians if name != "preview (now)"}
        if len({frozenset(c) for c in counts.values()}) != 1 or any(len(c) != 1 for c in counts.values()):
            raise SystemExit(f"the queries disagree: {counts}")
        now = medians["visit summary (now)"]
        print(f"seed 002 example segment: {next(iter(counts['visit summary (now)']))} recipients")
        print("median: " + "; ".join(f"{name} {seconds:.3f} s" for name, seconds in medians.items()))
        print(f"ratio now / patients join (before 0019): {now / medians['patients join (before 0019)']:.2f}")
        print(f"ratio now / issue 15 before: {now / medians['issue 15 before']:.2f}")
        print(f"ratio now / aggregate per patient: {now / medians['aggregate per patient (0006 before)']:.2f}")
        verdict = "meets" if now < TARGET_SECONDS else "MISSES"
        print(
            f"count {verdict} the target of under {TARGET_SECONDS} s; preview (count, left out, sample) "
            f"{medians['preview (now)']:.3f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN (ANALYZE, BUFFERS) of the count")
    parser.add_argument("--keep", metavar="NAME", help="build the database NAME once, keep it and reuse it")
    args = parser.parse_args()
    run(args.patients, args.runs, args.admin_url, args.explain, args.keep)


def kept_database(admin_url: str, name: str) -> tuple[bool, str]:
    """(whether it exists already, its URL) for ``--keep NAME``."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    return exists, f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)


def built(app, patients: int) -> tuple[int, list[int]] | None:
    """The bot and services of a kept database built for ``patients`` patients, or None."""
    import sqlalchemy as sa

    from webapp.clinic.models import Clinic, Patient, Service
    from webapp.extensions import db
    from webapp.telegram.models import Bot

    with app.app_context():
        bot_id = db.session.scalar(sa.select(Bot.id).where(Bot.name == "segments_bench"))
        if bot_id is None or db.session.scalar(sa.select(sa.func.count()).select_from(Patient)) != patients:
            return None
        clinic_id = db.session.scalar(sa.select(Clinic.id).where(Clinic.bot_id == bot_id))
        services = db.session.scalars(sa.select(Service.id).where(Service.clinic_id == clinic_id).order_by(Service.id))
        return bot_id, list(services)


def run(
    patients: int,
    runs: int = 5,
    admin_url: str = DEFAULT_ADMIN_URL,
    show_plans: bool = False,
    keep: str | None = None,
) -> None:
    import tempfile

    from flask_migrate import upgrade

    from webapp import create_app

    directory = tempfile.mkdtemp(prefix="botdesk-bench-segments-")
    os.environ["BOTDESK_INSTANCE_DIR"] = directory
    if keep:
        db_name = keep
        existed, database_url = kept_database(admin_url, keep)
    else:
        existed, (db_name, database_url) = False, create_database(admin_url, "segments")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": os.environ.get("REDIS_URL", "")})
    try:
        with app.app_context():
            upgrade(revision="heads")
        reused = built(app, patients) if existed else None
        if reused is None:
            if existed:
                raise SystemExit(f"{keep} is not a database this bench built for {patients} patients")
            started = time.perf_counter()
            reused = build(app, patients)
            print(f"generated {patients} patients in {time.perf_counter() - started:.1f} s")
        else:
            print(f"reusing {keep} ({patients} patients)")
            with app.app_context():  # a new migration may have rewritten rows: as after the build
                from webapp.extensions import db

                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.exec_driver_sql("VACUUM ANALYZE")
        bot_id, service_ids = reused
        measure(app, bot_id, service_ids, runs, show_plans)
    finally:
        with app.app_context():
            from webapp.extensions import db

            db.session.remove()
            db.engine.dispose()
        if not keep:
            drop_database(admin_url, db_name)


if __name__ == "__main__":
    main()
