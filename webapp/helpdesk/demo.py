"""Demo helpdesk: the organization "Support desk" with its bot, its staff (the demo ``helper`` and
its admin ``desk_admin``), the seed's categories and a few hundred tickets with conversations over
60 days, answered by the desk's own staff.

Idempotent: categories are matched by name within the desk, and the tickets are generated only while
no demo ticket exists. Times are backdated so the statistics (first-response times, per day, per helper)
have something to show; the generator is seeded, so every run produces the same data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

from webapp.core.db import utcnow
from webapp.core.models import Organization, User
from webapp.core.roles import Role
from webapp.core.services import create_staff_user
from webapp.core.tenancy import ensure_organization, organization_id_of, set_membership
from webapp.extensions import db
from webapp.helpdesk.models import (
    Ticket,
    TicketCategory,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    TicketStatusChange,
)
from webapp.helpdesk.services.categories import ensure_category
from webapp.telegram.models import Bot, Vertical

DEMO_SOURCE = "demo"
CATEGORIES = (
    ("Оплата и подписка", "Вопросы по оплате, возврату средств, продлению подписки", "💳", "#ff6b6b", 1),
    ("Технические проблемы", "Ошибки, краши, проблемы с установкой", "🔧", "#4ecdc4", 2),
    ("Аккаунт и доступ", "Вход, пароль, смена номера и почты", "👤", "#45b7d1", 3),
    ("Предложения", "Идеи и пожелания по работе сервиса", "💡", "#f9ca24", 4),
    ("Другое", "Всё, что не подошло в другие категории", "❓", "#a29bfe", 5),
)
TOPICS = {
    "Оплата и подписка": [
        ("Не проходит оплата картой", "Карта отклоняется при оплате подписки."),
        ("Списали деньги дважды", "За один месяц пришло два списания."),
        ("Как вернуть деньги", "Хочу отменить подписку и вернуть оплату."),
    ],
    "Технические проблемы": [
        ("Приложение вылетает при запуске", "После обновления приложение закрывается сразу."),
        ("Не приходят уведомления", "Push-уведомления перестали приходить."),
        ("Ошибка 500 на сайте", "При сохранении профиля выходит ошибка."),
    ],
    "Аккаунт и доступ": [
        ("Не могу войти", "Пишет «неверный пароль», хотя пароль верный."),
        ("Не приходит SMS-код", "Код подтверждения не приходит уже час."),
        ("Сменить номер телефона", "Старый номер больше не использую."),
    ],
    "Предложения": [
        ("Добавьте тёмную тему", "Вечером очень ярко."),
        ("Экспорт в Excel", "Нужна выгрузка истории в таблицу."),
    ],
    "Другое": [
        ("Вопрос по договору", "Где найти договор оферты?"),
        ("Сотрудничество", "Хотим обсудить партнёрство."),
    ],
}
CUSTOMERS = (
    "Азиз", "Мадина", "Ерлан", "Ольга", "Тимур", "Динара", "Сергей", "Гульнара", "Бекзод", "Анна",
    "Нурлан", "Айгерим", "Дмитрий", "Шахноза", "Руслан", "Камила", "Алия", "Жасур", "Елена", "Максат",
)  # fmt: skip
DESK_NAME = "Support desk"
DESK_ADMIN = "desk_admin"
STAFF_USERNAMES = ("helper", DESK_ADMIN)  # who answers the demo tickets: the desk's own staff
REPLIES = (
    "Здравствуйте! Уже проверяем, ответим в ближайшее время.",
    "Спасибо за обращение. Уточните, пожалуйста, модель устройства.",
    "Проблему нашли, исправление уже в работе.",
    "Попробуйте, пожалуйста, ещё раз — должно работать.",
)
NOTES = ("Похоже на известный баг, см. задачу в трекере.", "Проверил логи: ошибка на стороне платёжного шлюза.")
CUSTOMER_FOLLOW_UPS = ("Спасибо, жду.", "Всё ещё не работает.", "Получилось, спасибо!")
TICKETS = 300
DAYS = 60


def _desk(lines: list[str]) -> Organization:
    """The demo desk's organization, its bot, and its staff: ``helper`` joins, ``desk_admin`` is made."""
    from webapp.demo import DEMO_PASSWORD

    desk = ensure_organization(DESK_NAME)
    bot = db.session.scalar(db.select(Bot).filter_by(name=Vertical.HELPDESK.value, vertical=Vertical.HELPDESK.value))
    if bot is not None and bot.organization_id is None:
        bot.organization_id = desk.id
        lines.append(f"helpdesk: demo bot joins {DESK_NAME}")
    admin = db.session.scalar(db.select(User).filter_by(username=DESK_ADMIN))
    if admin is None:
        admin = create_staff_user(
            DESK_ADMIN,
            f"{DESK_ADMIN}@demo.botdesk.local",
            DEMO_PASSWORD,
            Role.ADMIN,
            source="cli",
            first_name="Desk admin",
            language="ru",
        )
        lines.append(f"created demo user {DESK_ADMIN} (admin of {DESK_NAME})")
    for user in db.session.scalars(db.select(User).where(User.username.in_(STAFF_USERNAMES))):
        if user.role in (Role.HELPER.value, Role.ADMIN.value) and organization_id_of(user) is None:
            set_membership(None, user, desk, source="cli")
            lines.append(f"helpdesk: {user.username} joins {DESK_NAME}")
    db.session.flush()
    return desk


def _categories(desk: Organization) -> Iterator[str]:
    for name, description, icon, color, order in CATEGORIES:
        _, created = ensure_category(desk.id, name, description=description, icon=icon, color=color, sort_order=order)
        if created:
            yield f"helpdesk: category {icon} {name}"
    db.session.flush()


def _customers() -> list[User]:
    users = []
    for n, first_name in enumerate(CUSTOMERS, 1):
        username = f"hd_customer_{n:02d}"
        user = db.session.scalar(db.select(User).filter_by(username=username))
        if user is None:
            user = User(username=username, first_name=first_name, role=Role.USER.value, language="ru")
            db.session.add(user)
        users.append(user)
    db.session.flush()
    return users


def _tickets(rng: random.Random, desk: Organization, customers: list[User], staff: list[User]) -> int:
    categories = list(
        db.session.scalars(
            db.select(TicketCategory)
            .where(TicketCategory.organization_id == desk.id)
            .order_by(TicketCategory.sort_order)
        )
    )
    weights = [5, 4, 3, 1, 1][: len(categories)]
    now = utcnow()
    priorities = list(TicketPriority)
    for _ in range(TICKETS):
        category = rng.choices(categories, weights=weights)[0]
        title, description = rng.choice(TOPICS.get(category.name, [("Вопрос", "Подробности")]))
        created = now - timedelta(days=rng.uniform(0, DAYS), minutes=rng.randint(0, 600))
        age = now - created
        customer = rng.choice(customers)
        ticket = Ticket(
            title=title,
            description=description,
            category=category,
            organization_id=desk.id,
            priority=rng.choices(priorities, weights=[2, 6, 3, 1])[0].value,
            user=customer,
            source=DEMO_SOURCE,
            created_at=created,
            updated_at=created,
        )
        db.session.add(ticket)
        db.session.flush()
        db.session.add(
            TicketStatusChange(ticket_id=ticket.id, new_status="OPEN", changed_by=customer, created_at=created)
        )
        _conversation(rng, ticket, staff, created, age)
    return TICKETS


def _move(ticket: Ticket, status: TicketStatus, who: User, when) -> None:
    db.session.add(
        TicketStatusChange(
            ticket_id=ticket.id, old_status=ticket.status, new_status=status.value, changed_by=who, created_at=when
        )
    )
    ticket.status = status.value
    ticket.updated_at = when
    if status == TicketStatus.CLOSED:
        ticket.closed_at = when


def _conversation(rng: random.Random, ticket: Ticket, staff: list[User], created, age: timedelta) -> None:
    """A first staff reply after a skewed delay (most within hours, a few after days), then the rest."""
    response_hours = rng.lognormvariate(1.0, 1.0)
    if timedelta(hours=response_hours) > age or rng.random() < 0.08:
        return  # not answered yet: stays OPEN (and keeps the unassigned queue populated)
    helper = rng.choice(staff)
    answered = created + timedelta(hours=response_hours)
    ticket.assigned_to = helper
    ticket.first_response_at = answered
    ticket.last_message_at = answered
    if rng.random() < 0.3:
        note_at = answered - timedelta(minutes=rng.randint(1, 30))
        db.session.add(
            TicketMessage(ticket=ticket, author=helper, content=rng.choice(NOTES), is_internal=True, created_at=note_at)
        )
    db.session.add(TicketMessage(ticket=ticket, author=helper, content=rng.choice(REPLIES), created_at=answered))
    _move(ticket, TicketStatus.WAITING_RESPONSE, helper, answered)
    later = answered + timedelta(hours=rng.uniform(0.5, 30))
    if later > created + age:
        return
    db.session.add(
        TicketMessage(ticket=ticket, author=ticket.user, content=rng.choice(CUSTOMER_FOLLOW_UPS), created_at=later)
    )
    ticket.last_message_at = later
    _move(ticket, TicketStatus.IN_PROGRESS, ticket.user, later)
    outcome = rng.random()
    done_at = later + timedelta(hours=rng.uniform(1, 48))
    if done_at > created + age or outcome < 0.15:
        return
    _move(ticket, TicketStatus.RESOLVED, helper, done_at)
    closed_at = done_at + timedelta(hours=rng.uniform(1, 72))
    if outcome > 0.4 and closed_at <= created + age:
        _move(ticket, TicketStatus.CLOSED, helper, closed_at)


def seed() -> Iterator[str]:
    lines: list[str] = []
    desk = _desk(lines)
    yield from lines
    yield from _categories(desk)
    if db.session.scalar(db.select(Ticket.id).filter_by(source=DEMO_SOURCE).limit(1)) is not None:
        return
    staff = [
        u
        for u in db.session.scalars(db.select(User).where(User.username.in_(STAFF_USERNAMES)).order_by(User.username))
        if organization_id_of(u) == desk.id
    ]
    if not staff:
        yield "helpdesk: no demo staff accounts; tickets skipped"
        return
    customers = _customers()
    count = _tickets(random.Random(3), desk, customers, staff)
    yield f"helpdesk: {count} demo tickets with conversations over {DAYS} days"
