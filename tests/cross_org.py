"""Two organizations, A and B, each with every kind of object: the world of the cross-organization matrix.

B is built first while it is the only business in the database: everything the fixtures create in
the shared test organization is then moved to B (every ``organization_id`` column), and A is built
in the test organization afterwards. So the world follows the fixtures' defaults, whatever column
a vertical's scoping adds.

Every object of an organization carries its marker (``ZQXA`` / ``ZQXB``) in a visible field, so a
list, an export or a lookup that leaks B's rows to A is found by searching the page for ``ZQXB``.
"""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import sqlalchemy as sa

MARKERS = {"a": "ZQXA", "b": "ZQXB"}
ORG_ROLES = ("admin", "doctor", "realtor", "helper", "marketer")
# What legitimately changes when anyone calls the API: the audit log, sign-in times, last use.
VOLATILE_TABLES = {"audit_log", "alembic_version"}
VOLATILE_COLUMNS = {"updated_at", "last_seen", "last_used_at", "last_login_at", "messages_count"}

_telegram_ids = itertools.count(880_000_001)
_numbers = itertools.count(1)


def _move_to(organization_id: int, from_organization_id: int) -> None:
    """Every row the fixtures put in the test organization now belongs to ``organization_id``."""
    from webapp.extensions import db

    for table in db.metadata.sorted_tables:
        if "organization_id" in table.c and table.name != "organizations":
            db.session.execute(
                sa.update(table)
                .where(table.c.organization_id == from_organization_id)
                .values(organization_id=organization_id)
            )
    db.session.commit()


def _bot(vertical: str, organization_id: int, marker: str):
    from webapp.extensions import db
    from webapp.telegram.models import Bot
    from webapp.telegram.tokens import set_bot_token

    n = next(_numbers)
    bot = Bot(name=f"{marker} {vertical} bot {n}", vertical=vertical)
    if hasattr(Bot, "organization_id"):
        bot.organization_id = organization_id
    set_bot_token(bot, f"{990000 + n}:{secrets.token_urlsafe(24)}")
    db.session.add(bot)
    db.session.flush()
    return bot


def _account(bot, user, first_name: str):
    from webapp.core.models import TelegramAccount
    from webapp.extensions import db

    tg = next(_telegram_ids)
    account = TelegramAccount(
        user_id=user.id, bot_id=bot.id, telegram_user_id=tg, chat_id=tg, first_name=first_name, language="ru"
    )
    db.session.add(account)
    db.session.flush()
    return account


def build_side(side: str, organization_id: int, organization_name: str, f: SimpleNamespace) -> SimpleNamespace:
    """One organization's staff and objects (committed); returns their ids and the staff namespaces."""
    from tests.fixtures.clinic import build_clinic, build_patient
    from tests.fixtures.realty import future
    from webapp.broadcasts.models import Broadcast, Segment
    from webapp.clinic import models as clinic
    from webapp.core.auth.service_tokens import generate_service_token
    from webapp.core.models import AuditLog
    from webapp.core.services import get_user
    from webapp.extensions import db
    from webapp.finance import models as finance
    from webapp.helpdesk.models import HelpdeskFile, Ticket
    from webapp.helpdesk.services import add_message
    from webapp.realty import models as realty_models

    m = MARKERS[side]
    make_user, realty = f.make_user, f.realty
    staff = {
        role: make_user(role, organization=organization_id, first_name=f"{m}{role}", username=f"{m.lower()}_{role}")
        for role in ORG_ROLES
    }
    ids: dict[str, object] = {}

    # --- bots of the organization ------------------------------------------------------------------
    clinic_bot = _bot("clinic", organization_id, m)
    desk_bot = _bot("helpdesk", organization_id, m)
    finance_bot = _bot("finance", organization_id, m)
    ids["bot"] = clinic_bot.id
    db.session.commit()

    # --- clinic: a clinic, a doctor (the doctor account's), a patient, an appointment, an invoice, a document
    c = build_clinic(bot_id=clinic_bot.id)
    place = db.session.get(clinic.Clinic, c.clinic_id)
    place.name = f"{m} clinic"
    doctor = db.session.get(clinic.Doctor, c.doctor_id)
    doctor.full_name = f"{m} doctor"
    doctor.user_id = staff["doctor"].id
    db.session.get(clinic.Branch, c.central_id).name = f"{m} branch"
    db.session.get(clinic.Service, c.consult_id).name = f"{m} service"
    # The organization's own FAQ entry (the fixture's entries are the platform's, shown by every bot).
    faq = clinic.Faq(organization_id=organization_id, question_ru=f"{m} faq", answer_ru=f"{m} faq answer", position=1)
    db.session.add(faq)
    db.session.commit()
    patient_ns = build_patient(first_name=f"{m}patient", last_name=f"{m}family")
    start = datetime(2030, 1, 7, 4, 0, tzinfo=UTC) + timedelta(minutes=30 * next(_numbers))
    appointment = clinic.Appointment(
        patient_id=patient_ns.id,
        doctor_id=c.doctor_id,
        service_id=c.consult_id,
        branch_id=c.central_id,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        status="booked",
        notes=f"{m} notes",
    )
    db.session.add(appointment)
    db.session.flush()
    invoice = clinic.Invoice(
        patient_id=patient_ns.id,
        appointment_id=appointment.id,
        amount=Decimal("5000"),
        description=f"{m} invoice",
        provider_reference=f"{m}-{secrets.token_hex(6)}",
    )
    document = clinic.Document(
        patient_id=patient_ns.id,
        appointment_id=appointment.id,
        doc_type="visit",
        title=f"{m} document",
        expires_at=datetime(2031, 1, 1, tzinfo=UTC),
    )
    feedback = clinic.Feedback(
        patient_id=patient_ns.id, appointment_id=appointment.id, score=3, comment=f"{m} feedback"
    )
    support = clinic.SupportTicket(patient_id=patient_ns.id, subject=f"{m} support", message=f"{m} support text")
    reminder = clinic.ReminderLog(
        appointment_id=appointment.id, kind="d1", starts_at=start, due_at=start - timedelta(days=1)
    )
    db.session.add_all([invoice, document, feedback, support, reminder])
    db.session.commit()
    ids.update(
        clinic=c.clinic_id,
        doctor=c.doctor_id,
        branch=c.central_id,
        service=c.consult_id,
        patient=patient_ns.id,
        patient_telegram_id=patient_ns.telegram_user_id,
        appointment=appointment.id,
        invoice=invoice.id,
        document=document.id,
        feedback=feedback.id,
        support_ticket=support.id,
        reminder=reminder.id,
        faq=faq.id,
    )

    # --- realty: an agency with its admin and realtor, a listing, a guest's booking and payment ----
    # Named after its organization: the realty fixture makes an agency that organization's storefront.
    agency = realty.agency(organization_name)
    db.session.get(realty_models.Agency, agency.id).address = f"{m} agency address"
    realty.join(staff["admin"], agency)
    realty.join(staff["realtor"], agency)
    listing = realty.listing(agency, staff["realtor"], title=f"{m} listing")
    guest = make_user("user", organization=None, first_name=f"{m}guest", username=f"{m.lower()}_guest")
    check_in = future(30 if side == "b" else 34)
    booking = realty.booking(listing, guest, check_in, check_in + timedelta(days=2))
    payment = realty_models.Payment(
        booking_id=booking.id, amount=Decimal("200"), currency="UZS", provider_ref=f"{m}-{secrets.token_hex(6)}"
    )
    block = realty_models.AvailabilityBlock(
        listing_id=listing.id,
        date_from=check_in + timedelta(days=10),
        date_to=check_in + timedelta(days=12),
        reason=f"{m} block",
    )
    review = realty_models.Review(
        booking_id=booking.id, listing_id=listing.id, author_id=guest.id, rating=4, text=f"{m} review"
    )
    event = realty_models.ModerationEvent(
        listing_id=listing.id,
        agency_id=agency.id,
        action="rejected",
        city="Tashkent",
        district=f"{m} district",
        reason=f"{m} reason",
        user_id=staff["realtor"].id,
    )
    db.session.add_all([payment, block, review, event])
    db.session.commit()
    ids.update(
        agency=agency.id,
        listing=listing.id,
        booking=booking.id,
        payment=payment.id,
        block=block.id,
        review=review.id,
        realtor=staff["realtor"].id,
        agency_member=staff["realtor"].id,
        moderation_event=event.id,
    )

    # --- helpdesk: a category, a customer's ticket with a message and an attachment --------------
    customer = make_user("user", organization=None, first_name=f"{m}customer", username=f"{m.lower()}_customer")
    category = f.hd_category(name=f"{m} category {next(_numbers)}")
    ticket_ns = f.hd_ticket(customer, f"{m} ticket", category=category, description=f"{m} ticket text")
    ticket = db.session.get(Ticket, ticket_ns.id)
    ticket.bot_id = desk_bot.id
    attachment = HelpdeskFile(
        filename=f"{m}-attachment.txt",
        content_type="text/plain",
        size=4,
        sha256="0" * 64,
        storage_key=f"matrix/{secrets.token_hex(8)}",
        uploaded_by_id=customer.id,
    )
    db.session.add(attachment)
    db.session.flush()
    message = add_message(ticket, get_user(customer.id), f"{m} message", attachment_ids=[attachment.id])
    db.session.commit()
    ids.update(category=category.id, ticket=ticket.id, message=message.id, attachment=attachment.id)

    # --- finance: the finance bot's customer with a wallet, a transaction, a goal and a debt --------
    spender = make_user("user", organization=None, first_name=f"{m}spender", username=f"{m.lower()}_spender")
    _account(finance_bot, get_user(spender.id), f"{m}spender")
    wallet = finance.Wallet(user_id=spender.id, currency="UZS")
    db.session.add(wallet)
    db.session.flush()
    category_row = finance.Category(
        user_id=spender.id,
        code=f"c{next(_numbers)}",
        type="expense",
        name_ru=f"{m} cat",
        name_uz=f"{m} cat",
        name_en=f"{m} cat",
    )
    db.session.add(category_row)
    db.session.flush()
    transaction = finance.Transaction(
        user_id=spender.id,
        wallet_id=wallet.id,
        type="expense",
        amount=Decimal("100"),
        category_id=category_row.id,
        description=f"{m} transaction",
    )
    goal = finance.Goal(user_id=spender.id, title=f"{m} goal", target_amount=Decimal("1000"))
    debt = finance.Debt(
        user_id=spender.id, counterparty=f"{m} counterparty", direction="owed_to_me", amount=Decimal("50")
    )
    voice = finance.VoiceCommandLog(user_id=spender.id, bot_id=finance_bot.id, text=f"{m} voice", status="confirmed")
    db.session.add_all([transaction, goal, debt, voice])
    db.session.commit()
    ids.update(
        transaction=transaction.id,
        goal=goal.id,
        debt=debt.id,
        wallet=wallet.id,
        finance_category=category_row.id,
        voice_log=voice.id,
    )

    # --- broadcasts: an audience member, a segment and a broadcast on the clinic bot --------------
    listener = make_user("user", organization=None, first_name=f"{m}listener", username=f"{m.lower()}_listener")
    _account(clinic_bot, get_user(listener.id), f"{m}listener")
    segment = Segment(bot_id=clinic_bot.id, name=f"{m} segment", filters={})
    db.session.add(segment)
    db.session.flush()
    broadcast = Broadcast(bot_id=clinic_bot.id, segment_id=segment.id, title=f"{m} broadcast", text=f"{m} text")
    db.session.add(broadcast)
    db.session.commit()
    ids.update(segment=segment.id, broadcast=broadcast.id)

    # --- platform: the admin's bot token, an audit entry, a staff account ------------------------
    _plain, token_row = generate_service_token(get_user(staff["admin"].id), name=f"{m} token")
    audit = AuditLog(
        actor_id=staff["admin"].id, action=f"{m}_action", target_type="user", target_id=str(staff["helper"].id)
    )
    db.session.add(audit)
    db.session.commit()
    ids.update(bot_token=token_row.id, audit=audit.id, staff_user=staff["helper"].id, organization=organization_id)

    return SimpleNamespace(
        side=side,
        marker=m,
        organization_id=organization_id,
        staff=staff,
        ids=ids,
        customers={"guest": guest, "customer": customer, "spender": spender, "listener": listener},
    )


def build_world(app, f: SimpleNamespace) -> SimpleNamespace:
    """Organizations A (the shared test organization) and B, built as the module docstring says.

    ``f`` holds the fixtures' factories: make_user, make_organization, realty, hd_category, hd_ticket.
    """
    from tests.organizations import TEST_ORGANIZATION, default_organization_id

    name_b = "Matrix organization B"
    with app.app_context():
        org_a = default_organization_id()
    org_b = f.make_organization(name_b)
    with app.app_context():
        b = build_side("b", org_b, name_b, f)
        _move_to(org_b, org_a)
        a = build_side("a", org_a, TEST_ORGANIZATION, f)
    moderator = f.make_user("moderator", organization=None, first_name="Matrixmoderator")
    superuser = f.make_user("superuser", organization=None, first_name="Matrixsuperuser")
    return SimpleNamespace(a=a, b=b, moderator=moderator, superuser=superuser)


def snapshot() -> dict[str, dict]:
    """Every row of every table that is not volatile: {table: {primary key: row}} (inside an app context)."""
    from webapp.extensions import db

    found = {}
    db.session.rollback()
    for table in db.metadata.sorted_tables:
        if table.name in VOLATILE_TABLES:
            continue
        key = list(table.primary_key.columns)
        columns = [c for c in table.c if c.name not in VOLATILE_COLUMNS]
        rows = db.session.execute(sa.select(*key, *columns)).all()
        found[table.name] = {tuple(row[: len(key)]): tuple(repr(v) for v in row[len(key) :]) for row in rows}
    db.session.rollback()
    return found


def lost_rows(before: dict[str, dict], after: dict[str, dict]) -> dict[str, int]:
    """Tables where a row of ``before`` is gone or changed, with how many."""
    lost = {}
    for name, rows in before.items():
        now = after.get(name, {})
        count = sum(1 for key, row in rows.items() if now.get(key) != row)
        if count:
            lost[name] = count
    return lost


def remove_added_rows(before: dict[str, dict], after: dict[str, dict]) -> int:
    """Delete the rows a call added (children first), so the next cell sees the world as built."""
    from webapp.extensions import db

    removed = 0
    for table in reversed(db.metadata.sorted_tables):
        added = [key for key in after.get(table.name, {}) if key not in before.get(table.name, {})]
        key_columns = list(table.primary_key.columns)
        for key in added:
            db.session.execute(sa.delete(table).where(*(c == v for c, v in zip(key_columns, key, strict=True))))
            removed += 1
    db.session.commit()
    return removed
