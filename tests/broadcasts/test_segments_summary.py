"""A clinic segment with visit filters reads the patient fields from the visit summaries' copy of
them (migration 0019): the same accounts as the patients' join, who is left out still adds up, and
a change of the patient row reaches the next count."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock

import pytest

from tests.broadcasts.test_segments import TZ, clinic_world, ids, years_ago  # noqa: F401  (fixture)
from webapp.broadcasts.services import clinic_segments, segments
from webapp.extensions import db


def patients_join_ids(bot, raw: dict) -> set[int]:
    """The same segment through the patient row (the query before 0019, still the left-out one's)."""

    def patients_first(query, filters, tz, bot, reachable):
        return clinic_segments.restrict_to_patients(query, filters, tz, bot, reachable, summary_first=False)

    with mock.patch.dict(segments.VERTICAL_COMPILERS, {"clinic": patients_first}):
        return set(db.session.scalars(segments.audience_select(bot, segments.parse_filters(raw, bot))))


def _combinations(services: dict) -> list[dict]:
    last_year = (datetime.now(TZ).date() - timedelta(days=365)).isoformat()
    last_15 = (datetime.now(TZ).date() - timedelta(days=15)).isoformat()
    both = [services["consult"], services["ultrasound"]]
    return [
        {"min_visits": 1},
        {"min_visits": 3},
        {"services": [services["consult"]]},
        {"services": both, "sex": "F"},
        {"last_visit_from": last_15},
        {"last_visit_to": last_15, "osms_status": "insured"},
        {"last_visit_from": last_year, "age_min": 18, "age_max": 65},
        {"min_visits": 1, "tags": ["vip"]},
        {"min_visits": 1, "tags": ["vip", "mother"], "language": "ru"},
        {"age_min": 18, "age_max": 65, "sex": "F", "services": both, "osms_status": "insured", "min_visits": 3},
    ]


def test_summary_first_lists_the_same_accounts_as_the_patients_join(clinic_world):  # noqa: F811
    bot, _, services = clinic_world
    for raw in _combinations(services):
        assert ids(bot, raw) == patients_join_ids(bot, raw), raw


def test_left_out_still_adds_up_with_visit_filters(clinic_world):  # noqa: F811
    """Counted through the summaries, left out through the patient rows: together every account
    the filters match (fay refused marketing; everyone else who matches is reachable)."""
    bot, _, services = clinic_world
    for raw in _combinations(services):
        filters = segments.parse_filters(raw, bot)
        everyone = len(set(db.session.scalars(segments.audience_select(bot, filters, reachable=False))))
        assert segments.audience_count(bot, filters) + sum(segments.left_out(bot, filters).values()) == everyone
    filters = segments.parse_filters({"min_visits": 1, "services": [services["consult"]]}, bot)
    assert segments.left_out(bot, filters)["no_marketing_consent"] == 1  # fay


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"consent_marketing_at": None}, set()),  # withdrawn: left out at once
        ({"is_active": False}, set()),
        ({"sex": "M"}, set()),
        ({"birth_date": years_ago(70)}, set()),
        ({"osms_status": "not_insured"}, set()),
        ({"notes": "nothing a segment reads"}, {"anna"}),
    ],
)
def test_a_change_of_the_patient_row_reaches_the_next_count(clinic_world, change, expected):  # noqa: F811
    from webapp.clinic.models import Patient

    bot, accounts, services = clinic_world
    example = {"age_min": 18, "age_max": 65, "sex": "F", "osms_status": "insured", "min_visits": 3}
    account = accounts["anna"]
    assert ids(bot, example) == {account}
    user_id = db.session.get(segments.TelegramAccount, account).user_id
    patient = db.session.scalars(db.select(Patient).filter_by(user_id=user_id)).one()
    for name, value in change.items():
        setattr(patient, name, value)
    db.session.flush()
    found = ids(bot, example)
    assert found == patients_join_ids(bot, example)
    assert found == ({account} if expected else set())
