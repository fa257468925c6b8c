"""The segment engine against hand-made accounts and patients with a known answer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from webapp.broadcasts.services import segments
from webapp.broadcasts.services.segments import FilterError, audience_count, audience_sample, parse_filters, preview
from webapp.extensions import db

TZ = ZoneInfo("Asia/Almaty")


def ids(bot, raw: dict) -> set[int]:
    filters = parse_filters(raw, bot)
    return set(db.session.scalars(segments.audience_select(bot, filters)))


def years_ago(years: int, days: int = 0) -> date:
    today = datetime.now(TZ).date()
    return segments.years_before(today, years) + timedelta(days=days)


# --- generic ---------------------------------------------------------------------------------------


def test_generic_filters_alone_and_combined(bc):
    bot = bc.bot("finance")
    other_bot = bc.bot("finance")
    now = datetime.now(UTC)
    ru_recent = bc.account(bot, language="ru", last_seen=now - timedelta(days=1), created_at=now - timedelta(days=3))
    kk_old = bc.account(bot, language="kk", last_seen=now - timedelta(days=40), created_at=now - timedelta(days=90))
    uz_never = bc.account(bot, language="uz", last_seen=None, created_at=now - timedelta(days=10))
    blocked = bc.account(bot, language="ru", blocked=True, last_seen=now)
    inactive = bc.account(bot, language="ru", active=False, last_seen=now)
    bc.account(other_bot, language="ru", last_seen=now)

    everyone = {ru_recent.id, kk_old.id, uz_never.id}
    assert ids(bot, {}) == everyone
    assert blocked.id not in ids(bot, {"has_not_blocked": True})
    assert inactive.id not in ids(bot, {})
    assert ids(bot, {"language": "kk"}) == {kk_old.id}
    assert ids(bot, {"language": ["ru", "uz"]}) == {ru_recent.id, uz_never.id}
    week_ago = (now - timedelta(days=7)).date()
    assert ids(bot, {"last_seen_from": week_ago.isoformat()}) == {ru_recent.id}
    assert ids(bot, {"last_seen_to": week_ago.isoformat()}) == {kk_old.id}
    assert ids(bot, {"registered_from": (now - timedelta(days=30)).date().isoformat()}) == {ru_recent.id, uz_never.id}
    assert ids(bot, {"registered_to": (now - timedelta(days=5)).date().isoformat()}) == {kk_old.id, uz_never.id}
    combined = {"language": ["ru", "uz"], "registered_from": (now - timedelta(days=5)).date().isoformat()}
    assert ids(bot, combined) == {ru_recent.id}


def test_count_and_sample_of_twenty(bc):
    bot = bc.bot("finance")
    accounts = [bc.account(bot, language="ru") for _ in range(25)]
    bc.account(bot, language="kk")
    filters = parse_filters({"language": "ru"}, bot)
    assert audience_count(bot, filters) == 25
    sample = audience_sample(bot, filters)
    shown = [row["telegram_account_id"] for row in sample]
    assert len(shown) == 20 and shown == sorted(set(shown)) and set(shown) <= {a.id for a in accounts}
    assert {row["language"] for row in sample} == {"ru"}
    shown = preview(bot, {"language": "kk"})
    assert shown["count"] == 1 and len(shown["sample"]) == 1 and shown["filters"] == {"language": ["kk"]}


# --- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"language": "fr"}, "language.0"),
        ({"age_min": -1}, "age_min"),
        ({"age_min": "old"}, "age_min"),
        ({"age_min": 40, "age_max": 30}, "age_max"),
        ({"sex": "X"}, "sex"),
        ({"services": []}, "services"),
        ({"services": ["one"]}, "services.0"),
        ({"last_visit_from": "2025-13-01"}, "last_visit_from"),
        ({"last_visit_from": "2025-02-01", "last_visit_to": "2025-01-01"}, "last_visit_to"),
        ({"min_visits": 0}, "min_visits"),
        ({"has_not_blocked": False}, "has_not_blocked"),
    ],
)
def test_bad_filters_name_the_field(bc, raw, field):
    bot = bc.bot("clinic")
    with pytest.raises(FilterError) as caught:
        parse_filters(raw, bot)
    assert caught.value.status == 422
    assert field in [d["field"] for d in caught.value.details]


def test_fields_of_another_vertical_are_refused(bc):
    realty_bot = bc.bot("realty")
    with pytest.raises(FilterError) as caught:
        parse_filters({"age_min": 18, "cities": ["Tashkent"]}, realty_bot)
    assert [d["field"] for d in caught.value.details] == ["age_min"]
    assert "realty" in caught.value.details[0]["message"]
    clinic_bot = bc.bot("clinic")
    with pytest.raises(FilterError):
        parse_filters({"active_days": 7}, clinic_bot)


def test_filters_must_be_an_object(bc):
    with pytest.raises(FilterError):
        parse_filters(["age_min", 18], bc.bot("clinic"))


# --- clinic (seed 002) ----------------------------------------------------------------------------


@pytest.fixture
def clinic_world(bc):
    """Six patients whose answers to each filter are known by construction."""
    bot = bc.bot("clinic")
    place = bc.clinic(bot)
    elsewhere = bc.clinic()
    consult, ultrasound, massage = bc.service(place), bc.service(place), bc.service(place)
    foreign_service = bc.service(elsewhere)
    now = datetime.now(UTC)
    w = {}

    def patient(key, **kwargs):
        account = bc.account(bot, language=kwargs.pop("language", "ru"))
        w[key] = account
        return bc.patient(account, **kwargs)

    # anna: F, 30, insured, vip; 3 visits (consult x2, ultrasound), last 10 days ago
    anna = patient("anna", birth_date=years_ago(30), sex="F", osms_status="insured", tags=("vip", "mother"))
    for days, service in ((200, consult), (100, consult), (10, ultrasound)):
        bc.visit(place, anna, service, now - timedelta(days=days))
    # bella: F, exactly 18 today, not insured; 1 visit (massage) 400 days ago + a cancelled consult
    bella = patient("bella", birth_date=years_ago(18), sex="F", osms_status="not_insured", tags=("student",))
    bc.visit(place, bella, massage, now - timedelta(days=400))
    bc.visit(place, bella, consult, now - timedelta(days=5), status="cancelled")
    # carl: M, 65 (turns 66 tomorrow), insured, vip; 5 visits of consult, the last 30 days ago
    carl = patient("carl", birth_date=years_ago(66, days=1), sex="M", osms_status="insured", tags=("vip",))
    for days in (300, 200, 120, 60, 30):
        bc.visit(place, carl, consult, now - timedelta(days=days))
    # dina: F, 17 (turns 18 tomorrow), insured; no visits
    patient("dina", birth_date=years_ago(18, days=1), sex="F", osms_status="insured")
    # egor: M, 66 today, unknown osms; visits only at another clinic
    egor = patient("egor", birth_date=years_ago(66), sex="M", osms_status="unknown", tags=("vip",))
    for days in (50, 40, 20):
        bc.visit(elsewhere, egor, foreign_service, now - timedelta(days=days))
    # fay: would match everything but refused marketing
    fay = patient("fay", birth_date=years_ago(30), sex="F", osms_status="insured", tags=("vip",), marketing=False)
    bc.visit(place, fay, consult, now - timedelta(days=10))
    # a Telegram user who never registered as a patient
    w["stranger"] = bc.account(bot)
    return bot, {k: v.id for k, v in w.items()}, {"consult": consult.id, "ultrasound": ultrasound.id}


def names(world, found: set[int]) -> set[str]:
    _, accounts, _ = world
    return {name for name, account_id in accounts.items() if account_id in found}


def test_clinic_each_filter_alone(clinic_world):
    bot, _, services = clinic_world
    assert names(clinic_world, ids(bot, {})) == {"anna", "bella", "carl", "dina", "egor"}
    assert names(clinic_world, ids(bot, {"age_min": 18})) == {"anna", "bella", "carl", "egor"}
    assert names(clinic_world, ids(bot, {"age_max": 65})) == {"anna", "bella", "carl", "dina"}
    assert names(clinic_world, ids(bot, {"sex": "M"})) == {"carl", "egor"}
    assert names(clinic_world, ids(bot, {"sex": "f"})) == {"anna", "bella", "dina"}
    assert names(clinic_world, ids(bot, {"services": [services["consult"]]})) == {"anna", "carl"}
    assert names(clinic_world, ids(bot, {"services": [services["ultrasound"]]})) == {"anna"}
    assert names(clinic_world, ids(bot, {"tags": ["vip"]})) == {"anna", "carl", "egor"}
    assert names(clinic_world, ids(bot, {"tags": ["vip", "mother"]})) == {"anna"}
    assert names(clinic_world, ids(bot, {"osms_status": "insured"})) == {"anna", "carl", "dina"}
    assert names(clinic_world, ids(bot, {"osms_status": "not_insured"})) == {"bella"}
    today = datetime.now(TZ).date()
    last_15 = (today - timedelta(days=15)).isoformat()
    assert names(clinic_world, ids(bot, {"last_visit_from": last_15})) == {"anna"}
    assert names(clinic_world, ids(bot, {"last_visit_to": last_15})) == {"bella", "carl"}
    assert names(clinic_world, ids(bot, {"min_visits": 1})) == {"anna", "bella", "carl"}
    assert names(clinic_world, ids(bot, {"min_visits": 3})) == {"anna", "carl"}
    assert names(clinic_world, ids(bot, {"min_visits": 4})) == {"carl"}


def test_clinic_segment_reads_only_the_bots_organizations_patient(bc):
    """One person, a patient of two organizations: clinic B's consent and tags are not clinic A's."""
    from webapp.core.tenancy import ensure_organization

    bot_a = bc.bot("clinic")
    bc.clinic(bot_a)
    organization_b = ensure_organization("Segments B").id
    bot_b = bc.bot("clinic", organization=organization_b)
    in_a = bc.account(bot_a)
    in_b = bc.account(bot_b, user=in_a.user, telegram_user_id=in_a.telegram_user_id)
    bc.patient(in_a, tags=("vip",), marketing=False)
    bc.patient(in_b, tags=("vip", "mother"), organization_id=organization_b)
    assert ids(bot_b, {"tags": ["mother"]}) == {in_b.id}
    assert ids(bot_a, {}) == set()  # refused marketing at A, whatever B was told
    assert ids(bot_a, {"tags": ["vip"]}) == set()


def test_clinic_seed_example_combined(clinic_world):
    bot, _, services = clinic_world
    seed_example = {
        "age_min": 18,
        "age_max": 65,
        "sex": "F",
        "services": [services["consult"], services["ultrasound"], 999999],
        "osms_status": "insured",
        "last_visit_from": (datetime.now(TZ).date() - timedelta(days=365)).isoformat(),
        "min_visits": 3,
    }
    assert names(clinic_world, ids(bot, seed_example)) == {"anna"}
    assert names(clinic_world, ids(bot, {**seed_example, "sex": "M"})) == {"carl"}
    assert names(clinic_world, ids(bot, {**seed_example, "sex": "M", "min_visits": 6})) == set()
    assert names(clinic_world, ids(bot, {**seed_example, "services": [services["ultrasound"]]})) == {"anna"}
    assert names(clinic_world, ids(bot, {**seed_example, "tags": ["mother"], "sex": None})) == {"anna"}
    assert audience_count(bot, parse_filters(seed_example, bot)) == 1


# --- realty and finance ----------------------------------------------------------------------------


def test_realty_cities_and_roles(bc):
    from decimal import Decimal

    from webapp.realty import models as realty

    bot = bc.bot("realty")
    guest_tash = bc.account(bot)
    guest_both = bc.account(bot)
    guest_cancelled = bc.account(bot)
    realtor = bc.account(bot, role="realtor")
    from webapp.core.tenancy import ensure_organization

    agency = realty.Agency(name="Agency", city="Tashkent", organization_id=ensure_organization("Agency").id)
    db.session.add(agency)
    db.session.flush()

    def listing(city):
        row = realty.Listing(agency_id=agency.id, title=city, city=city, price_per_night=Decimal("10"))
        db.session.add(row)
        db.session.flush()
        return row

    tash, sam = listing("Tashkent"), listing("Samarkand")
    start = date(2025, 3, 1)
    for account, place, status in (
        (guest_tash, tash, "confirmed"),
        (guest_both, tash, "completed"),
        (guest_both, sam, "pending"),
        (guest_cancelled, sam, "cancelled"),
    ):
        db.session.add(
            realty.Booking(
                listing_id=place.id,
                guest_id=account.user_id,
                check_in=start,
                check_out=start + timedelta(days=2),
                total_price=Decimal("20"),
                status=status,
            )
        )
        start += timedelta(days=5)
    db.session.flush()

    assert ids(bot, {"cities": "tashkent"}) == {guest_tash.id, guest_both.id}
    assert ids(bot, {"cities": ["Samarkand"]}) == {guest_both.id}
    assert ids(bot, {"roles": ["realtor"]}) == {realtor.id}
    assert ids(bot, {"roles": ["user"], "cities": ["Samarkand", "Bukhara"]}) == {guest_both.id}


def test_finance_active_days(bc):
    from decimal import Decimal

    from webapp.finance import models as finance

    bot = bc.bot("finance")
    active, stale, silent = bc.account(bot), bc.account(bot), bc.account(bot)
    now = datetime.now(UTC)
    for account, days in ((active, 2), (stale, 45)):
        wallet = finance.Wallet(user_id=account.user_id)
        db.session.add(wallet)
        db.session.flush()
        db.session.add(
            finance.Transaction(
                user_id=account.user_id,
                wallet_id=wallet.id,
                type="expense",
                amount=Decimal("100"),
                created_at=now - timedelta(days=days),
                updated_at=now - timedelta(days=days),
                occurred_at=now - timedelta(days=days),
            )
        )
    db.session.flush()
    assert ids(bot, {"active_days": 7}) == {active.id}
    assert ids(bot, {"active_days": 60}) == {active.id, stale.id}
    assert silent.id in ids(bot, {})
