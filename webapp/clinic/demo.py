"""Demo clinic (Asia/Almaty): 2 branches, 5 services, 4 doctors with weekly schedules, patients with
past and upcoming visits, an FAQ — so a person can register and book in the sandbox at once.

Idempotent: the clinic is created once (found again by name); its organization (named after it),
the links to the demo clinic bot and to the demo doctor account, the demo doctor's and marketer's
memberships and the clinic's own admin (``clinic_admin``) are completed whenever they are missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time, timedelta
from decimal import Decimal

from webapp.clinic.models import (
    Branch,
    Clinic,
    Doctor,
    DoctorSchedule,
    Faq,
    OsmsStatus,
    Patient,
    Service,
)
from webapp.clinic.services import booking, clock, payments, support
from webapp.clinic.services.common import local_midnight_utc, zone
from webapp.clinic.services.iin import compose_iin
from webapp.clinic.services.patients import PatientData, set_tags, upsert_patient, user_for_telegram
from webapp.clinic.services.slots import day_slots
from webapp.core.models import Membership, Organization, User
from webapp.core.roles import Role
from webapp.core.services import create_staff_user
from webapp.core.tenancy import ensure_organization, set_membership
from webapp.extensions import db
from webapp.telegram.models import Bot

DEMO_CLINIC = "Клиника «Денсаулық» (демо)"
SERVICES = (
    # name, Kazakh name, minutes, price, prepayment
    ("Консультация терапевта", "Терапевт кеңесі", 30, "8000", "2000"),
    ("Консультация кардиолога", "Кардиолог кеңесі", 30, "12000", "3000"),
    ("УЗИ брюшной полости", "Іш қуысының УДЗ", 60, "15000", "0"),
    ("ЭКГ", "ЭКГ", 30, "5000", "0"),
    ("Общий анализ крови", "Жалпы қан талдауы", 30, "3500", "0"),
)
DOCTORS = (
    # full name, specialty, services (indexes into SERVICES), branches (0 central, 1 east), Saturday shift
    ("Ахметова Айгуль Сериковна", "Терапевт", (0, 3, 4), (0, 1), True),
    ("Ким Олег Викторович", "Кардиолог", (1, 3), (0,), False),
    ("Нұрланов Дәулет Ғаниұлы", "Врач УЗИ", (2,), (0,), False),
    ("Сейтқали Әсел Құрманқызы", "Терапевт", (0, 4), (1,), True),
)
PATIENTS = (
    # telegram id, first, last, middle, phone, birth date, sex, language, OSMS, tags
    (9_000_001, "Ерлан", "Жумабаев", "Серікұлы", "+77011234501", date(1985, 3, 15), "M", "ru", "insured", ["vip"]),
    (9_000_002, "Айгерім", "Сәрсенбаева", None, "+77071234502", date(1995, 5, 20), "F", "kk", "insured", ["chronic"]),
    (9_000_003, "Ольга", "Петрова", "Ивановна", "+77751234503", date(1962, 11, 2), "F", "ru", "not_insured", []),
)
# The platform's general FAQ (every clinic bot shows it) and the demo clinic's own entries, which its
# bot shows first: {language: (question, answer)} in every language the clinic bot speaks.
FAQ = (
    {
        "ru": (
            "Как записаться на приём?",
            "Нажмите «📅 Записаться» и выберите филиал, услугу, врача, дату и время.",
        ),
        "kk": (
            "Қабылдауға қалай жазылуға болады?",
            "«📅 Жазылу» батырмасын басып, филиалды, қызметті, дәрігерді, күн мен уақытты таңдаңыз.",
        ),
        "uz": (
            "Qabulga qanday yozilsa boʻladi?",
            "«📅 Qabulga yozilish» tugmasini bosing va filial, xizmat, shifokor, sana va vaqtni tanlang.",
        ),
        "en": (
            "How do I book an appointment?",
            "Press «📅 Book an appointment» and choose the branch, service, doctor, date and time.",
        ),
    },
    {
        "ru": (
            "Как перенести или отменить запись?",
            "Откройте «📋 Мои записи» и нажмите «Перенести» или «Отменить запись».",
        ),
        "kk": (
            "Жазылуды қалай ауыстыруға немесе болдырмауға болады?",
            "«📋 Менің жазулартым» бөлімін ашып, «Ауыстыру» немесе «Жазылудан бас тарту» батырмасын басыңыз.",
        ),
        "uz": (
            "Qabulni qanday koʻchirish yoki bekor qilish mumkin?",
            "«📋 Qabullarim» boʻlimini oching va «Koʻchirish» yoki «Qabulni bekor qilish» tugmasini bosing.",
        ),
        "en": (
            "How do I reschedule or cancel an appointment?",
            "Open «📋 My appointments» and press «Reschedule» or «Cancel appointment».",
        ),
    },
    {
        "ru": (
            "Где взять справку для налогового вычета?",
            "В разделе «📄 Документы» — «Справка для налогового вычета».",
        ),
        "kk": (
            "Салық шегерімі үшін анықтаманы қайдан алуға болады?",
            "«📄 Құжаттар» бөлімінде — «Салық шегерімі үшін анықтама».",
        ),
        "uz": (
            "Soliq chegirmasi uchun maʼlumotnomani qayerdan olsa boʻladi?",
            "«📄 Hujjatlar» boʻlimida — «Soliq chegirmasi uchun maʼlumotnoma».",
        ),
        "en": ("Where do I get a certificate for a tax deduction?", "In «📄 Documents» — «Tax deduction certificate»."),
    },
    {
        "ru": ("Нужна ли предоплата?", "Для некоторых услуг можно внести предоплату — это по желанию."),
        "kk": ("Алдын ала төлем қажет пе?", "Кейбір қызметтер үшін алдын ала төлеуге болады — бұл міндетті емес."),
        "uz": ("Oldindan toʻlov kerakmi?", "Baʼzi xizmatlar uchun oldindan toʻlash mumkin — bu ixtiyoriy."),
        "en": ("Do I need to pay in advance?", "Some services can be prepaid — it is optional."),
    },
)
CLINIC_FAQ = (
    {
        "ru": ("Есть ли парковка у клиники?", "Да, бесплатная парковка у центрального филиала на пр. Абая, 10."),
        "kk": (
            "Клиниканың жанында тұрақ бар ма?",
            "Иә, Абай даңғылы, 10 мекенжайындағы орталық филиалдың жанында тегін тұрақ бар.",
        ),
        "uz": (
            "Klinika yonida avtoturargoh bormi?",
            "Ha, Abay shoh koʻchasi, 10-uydagi markaziy filial yonida bepul avtoturargoh bor.",
        ),
        "en": ("Is there parking at the clinic?", "Yes, free parking by the central branch at 10 Abay Avenue."),
    },
    {
        "ru": ("Как подготовиться к УЗИ брюшной полости?", "Приходите натощак: не ешьте 6–8 часов до исследования."),
        "kk": (
            "Іш қуысының УДЗ-на қалай дайындалу керек?",
            "Аш қарынға келіңіз: зерттеуге дейін 6–8 сағат тамақ ішпеңіз.",
        ),
        "uz": (
            "Qorin boʻshligʻi UTTsiga qanday tayyorlanish kerak?",
            "Nahorga keling: tekshiruvdan oldin 6–8 soat ovqat yemang.",
        ),
        "en": (
            "How do I prepare for an abdominal ultrasound?",
            "Come on an empty stomach: do not eat for 6–8 hours before the scan.",
        ),
    },
)


def _faq(entries, organization_id: int | None) -> list[Faq]:
    rows = []
    for position, texts in enumerate(entries, start=1):
        columns = {
            f"{part}_{language}": pair[i]
            for language, pair in texts.items()
            for i, part in enumerate(("question", "answer"))
        }
        rows.append(Faq(organization_id=organization_id, position=position, **columns))
    return rows


CLINIC_ADMIN = "clinic_admin"


def _create_clinic(organization: Organization) -> Clinic:
    clinic = Clinic(
        name=DEMO_CLINIC,
        organization_id=organization.id,
        timezone="Asia/Almaty",
        phone="+77272000000",
        address="Алматы",
    )
    central = Branch(clinic=clinic, name="Центральный филиал", address="пр. Абая, 10", phone="+77272000001")
    east = Branch(clinic=clinic, name="Филиал «Шығыс»", address="ул. Сатпаева, 90", phone="+77272000002")
    branches = (central, east)
    services = [
        Service(
            clinic=clinic,
            name=name,
            name_kk=name_kk,
            duration_minutes=minutes,
            price=Decimal(price),
            prepayment_amount=Decimal(prepay),
            branches=list(branches),
        )
        for name, name_kk, minutes, price, prepay in SERVICES
    ]
    services[2].branches = [central]  # the ultrasound machine is at the central branch
    db.session.add_all([clinic, *branches, *services])
    for full_name, specialty, service_ids, branch_ids, saturday in DOCTORS:
        doctor = Doctor(
            clinic=clinic,
            full_name=full_name,
            specialty=specialty,
            services=[services[i] for i in service_ids],
            branches=[branches[i] for i in branch_ids],
        )
        home = branches[branch_ids[0]]
        for weekday in range(5):
            doctor.schedules.append(
                DoctorSchedule(
                    branch=home,
                    weekday=weekday,
                    start_time=time(9),
                    end_time=time(18),
                    break_start=time(13),
                    break_end=time(14),
                )
            )
        if saturday:
            doctor.schedules.append(
                DoctorSchedule(branch=branches[branch_ids[-1]], weekday=5, start_time=time(10), end_time=time(14))
            )
        db.session.add(doctor)
    db.session.add_all([*_faq(CLINIC_FAQ, organization.id), *_faq(FAQ, None)])
    db.session.flush()
    return clinic


def _patients(clinic: Clinic) -> list[Patient]:
    made = []
    for serial, (tg_id, first, last, middle, phone, born, sex, language, osms, tags) in enumerate(PATIENTS, start=1):
        data = PatientData(
            first_name=first,
            last_name=last,
            middle_name=middle,
            phone=phone,
            birth_date=born,
            sex=sex,
            iin=compose_iin(born, sex, 100 + serial),
            language=language,
            consents={"personal_data": True, "medical": True, "marketing": serial != 3},
            osms_status=OsmsStatus(osms).value,
        )
        user = user_for_telegram(tg_id, language=language)
        patient, _ = upsert_patient(user, data, organization_id=clinic.organization_id, source="cli")
        set_tags(patient, tags)
        made.append(patient)
    return made


def _first_free(doctor: Doctor, service: Service, days, now):
    for day in days:
        free = [s for s in day_slots(doctor, day, service=service, now=now) if s.available]
        if free:
            return free[len(free) // 3]
    return None


def _branch(doctor: Doctor, slot) -> Branch:
    """The branch the slot's schedule is at: a doctor may work at another branch on some days."""
    return next(b for b in doctor.branches if b.id == slot.branch_id)


def _visits(clinic: Clinic, patients: list[Patient]) -> int:
    """Two past visits (one completed and rated, one no-show) and two upcoming appointments."""
    tz = zone(clinic.timezone)
    now = clock.now()
    today = now.astimezone(tz).date()
    doctors = db.session.scalars(db.select(Doctor).filter_by(clinic_id=clinic.id).order_by(Doctor.id)).all()
    therapist, cardiologist = doctors[0], doctors[1]
    consult, cardio = therapist.services[0], cardiologist.services[0]
    created = 0
    past_days = [today - timedelta(days=n) for n in range(3, 20)]
    for patient, doctor, service, outcome in (
        (patients[1], therapist, consult, "completed"),
        (patients[2], cardiologist, cardio, "no_show"),
    ):
        then = local_midnight_utc(past_days[-1] - timedelta(days=1), tz)
        slot = _first_free(doctor, service, past_days, then)
        if slot is None:
            continue
        appointment = booking.book_appointment(
            patient, doctor, service, _branch(doctor, slot), slot.starts_at, source="cli", now=then
        )
        after = slot.ends_at + timedelta(minutes=1)
        if outcome == "completed":
            booking.mark_arrived(appointment, source="cli", now=slot.starts_at)
            booking.complete_appointment(appointment, source="cli", now=after, at=slot.ends_at)
            payments.demo_provider_pay(
                payments.create_invoice(patient, service.price, description=service.name), now=after
            )
            support.record_feedback(patient, appointment.id, 9, "Внимательный врач, спасибо!", source="cli")
        else:
            booking.mark_no_show(appointment, source="cli", now=after)
        created += 1
    upcoming = [today + timedelta(days=n) for n in range(1, 15)]
    for patient, doctor, service in ((patients[0], therapist, consult), (patients[1], cardiologist, cardio)):
        slot = _first_free(doctor, service, upcoming, now)
        if slot is not None:
            booking.book_appointment(
                patient, doctor, service, _branch(doctor, slot), slot.starts_at, source="cli", now=now
            )
            created += 1
    return created


def _join(username: str, organization: Organization, *, move: bool) -> Iterator[str]:
    """Put a demo account in the clinic's organization: ``move`` also takes it from another one;
    otherwise an account that already works for an organization stays there."""
    account = db.session.scalar(db.select(User).filter_by(username=username))
    if account is None:
        return
    current = db.session.scalar(db.select(Membership.organization_id).filter_by(user_id=account.id))
    if current == organization.id or (current is not None and not move):
        return
    set_membership(None, account, organization, source="cli")
    yield f"demo account {username!r} works for {organization.name}"


def seed() -> Iterator[str]:
    from webapp.demo import DEMO_PASSWORD

    clinic = db.session.scalar(db.select(Clinic).filter_by(name=DEMO_CLINIC))
    organization = clinic.organization if clinic is not None else ensure_organization(DEMO_CLINIC)
    if clinic is None:
        clinic = _create_clinic(organization)
        patients = _patients(clinic)
        visits = _visits(clinic, patients)
        yield (
            f"created demo clinic {DEMO_CLINIC} (Asia/Almaty): 2 branches, {len(SERVICES)} services, "
            f"{len(DOCTORS)} doctors, {len(patients)} patients, {visits} appointments"
        )
    bot = db.session.scalar(db.select(Bot).filter_by(name="clinic"))
    if bot is not None and clinic.bot_id is None:
        clinic.bot_id = bot.id
        yield f"demo clinic answers through bot {bot.name}"
    clinic_bot = db.session.get(Bot, clinic.bot_id) if clinic.bot_id is not None else None
    if clinic_bot is not None and clinic_bot.organization_id is None:
        clinic_bot.organization_id = organization.id
    if db.session.scalar(db.select(User.id).filter_by(username=CLINIC_ADMIN)) is None:
        create_staff_user(
            CLINIC_ADMIN,
            f"{CLINIC_ADMIN}@demo.botdesk.local",
            DEMO_PASSWORD,
            Role.ADMIN,
            source="cli",
            first_name="Clinic admin",
            language="ru",
        )
        yield f"created demo user {CLINIC_ADMIN} (admin of {organization.name})"
    yield from _join(CLINIC_ADMIN, organization, move=True)
    yield from _join("doctor", organization, move=True)
    # The demo broadcasts go to the clinic bot's patients.
    yield from _join("marketer", organization, move=False)
    account = db.session.scalar(db.select(User).filter_by(username="doctor"))
    first_doctor = db.session.scalar(db.select(Doctor).filter_by(clinic_id=clinic.id).order_by(Doctor.id).limit(1))
    taken = account is not None and db.session.scalar(db.select(Doctor.id).filter_by(user_id=account.id)) is not None
    if account is not None and not taken and first_doctor is not None and first_doctor.user_id is None:
        first_doctor.user_id = account.id
        yield f"demo console account 'doctor' is {first_doctor.full_name}"
