"""In-app notifications, each pushed once to the recipient's realty bot chat through the outbox.

Texts are rendered in the recipient's language when the notification is created, so the stored
text is what they read in the app and in Telegram alike.
"""

from __future__ import annotations

import sqlalchemy as sa

from webapp.core.db import utcnow
from webapp.core.i18n import Catalog
from webapp.core.models import Membership, User
from webapp.core.roles import Role
from webapp.extensions import db
from webapp.realty.models import Agency, Booking, Listing, Notification
from webapp.telegram import outbox
from webapp.telegram.models import OutboundMessage, Vertical

catalog = Catalog("realty")


def t(user: User | None, message: str, **params) -> str:
    return catalog.for_language(user.language if user else None, message, **params)


def notify(
    user: User, kind: str, message: str, *, booking: Booking | None = None, listing: Listing | None = None, **params
) -> Notification:
    """Store a notification for ``user`` (``message`` is an English msgid) and, when they have a realty
    chat, its Telegram push in the outbox, in the same transaction."""
    row = Notification(
        user_id=user.id,
        kind=kind,
        text=t(user, message, **params),
        booking_id=booking.id if booking else None,
        listing_id=listing.id if listing else (booking.listing_id if booking else None),
    )
    db.session.add(row)
    db.session.flush()
    chat = outbox.chat_for(user, vertical=Vertical.REALTY.value)
    if chat is not None:
        # A booking's event is told to each person once, however often the transition is retried.
        key = f"booking-push:{booking.id}:{kind}:{user.id.hex}" if booking else f"notification:{row.id}"
        listing = listing or (booking.listing if booking else None)
        organization_id = listing.agency.organization_id if listing is not None and listing.agency else None
        outbox.write(
            key, "realty", chat, row.text, organization_id=organization_id, subject=f"realty_notification:{row.id}"
        )
    return row


def listing_staff(listing: Listing) -> list[User]:
    """Who hears about a listing's bookings: its realtor, or the agency's admins when it has none."""
    if listing.realtor is not None and listing.realtor.is_active:
        return [listing.realtor]
    return list(
        db.session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .join(Agency, Agency.organization_id == Membership.organization_id)
            .where(
                Agency.id == listing.agency_id,
                User.is_active.is_(True),
                User.role == Role.ADMIN.value,
            )
        )
    )


def unread(user: User, limit: int = 20) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def list_notifications(user: User, unread_only: bool = False) -> sa.Select:
    query = sa.select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query.order_by(Notification.id.desc())


def mark_read(user: User, notification_ids: list[int] | None = None) -> int:
    """Mark the user's notifications (all unread, or the given ids) read; returns how many changed."""
    query = sa.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_ids is not None:
        query = query.where(Notification.id.in_(notification_ids))
    result = db.session.execute(query.values(read_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount or 0


def pushed_at(notifications: list[Notification]) -> dict[int, object]:
    """When each notification reached Telegram: its outbox row's send time (the stamp on the row
    itself for notifications from before the outbox), None while not (yet) sent."""
    subjects = {f"realty_notification:{row.id}": row.id for row in notifications}
    sent = {}
    if subjects:
        query = sa.select(OutboundMessage.subject, OutboundMessage.sent_at).where(
            OutboundMessage.subject.in_(list(subjects))
        )
        sent = {subjects[subject]: when for subject, when in db.session.execute(query)}
    return {row.id: sent.get(row.id) or row.telegram_sent_at for row in notifications}
