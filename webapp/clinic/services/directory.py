"""Branches, services and doctors as the booking flow lists them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from webapp.clinic.access import not_found
from webapp.clinic.models import (
    Branch,
    Clinic,
    Doctor,
    DoctorDayOff,
    DoctorSchedule,
    Service,
    doctor_branches,
    doctor_services,
    service_branches,
)
from webapp.extensions import db

Narrow = Callable[[sa.Select], sa.Select]  # what the caller reaches (``webapp.clinic.access.scope``)


def _rows(query: sa.Select, narrow: Narrow | None) -> list:
    return list(db.session.scalars(narrow(query) if narrow else query))


def list_branches(clinic_id: int | None = None, narrow: Narrow | None = None) -> list[Branch]:
    query = db.select(Branch).where(Branch.is_active.is_(True)).order_by(Branch.name, Branch.id)
    if clinic_id is not None:
        query = query.where(Branch.clinic_id == clinic_id)
    return _rows(query, narrow)


def list_services(branch_id: int | None = None, narrow: Narrow | None = None) -> list[Service]:
    query = db.select(Service).where(Service.is_active.is_(True)).order_by(Service.name, Service.id)
    if branch_id is not None:
        query = query.where(
            Service.id.in_(db.select(service_branches.c.service_id).where(service_branches.c.branch_id == branch_id))
        )
    return _rows(query, narrow)


def list_doctors(
    service_id: int | None = None,
    branch_id: int | None = None,
    day: date | None = None,
    narrow: Narrow | None = None,
) -> list[Doctor]:
    """Active doctors offering ``service_id`` at ``branch_id``; with ``day``, only those working that day."""
    query = db.select(Doctor).where(Doctor.is_active.is_(True)).order_by(Doctor.full_name, Doctor.id)
    if service_id is not None:
        query = query.where(
            Doctor.id.in_(db.select(doctor_services.c.doctor_id).where(doctor_services.c.service_id == service_id))
        )
    if branch_id is not None:
        query = query.where(
            Doctor.id.in_(db.select(doctor_branches.c.doctor_id).where(doctor_branches.c.branch_id == branch_id))
        )
    if day is not None:
        works = db.select(DoctorSchedule.doctor_id).where(DoctorSchedule.weekday == day.weekday())
        if branch_id is not None:
            works = works.where(DoctorSchedule.branch_id == branch_id)
        query = query.where(
            Doctor.id.in_(works),
            Doctor.id.not_in(db.select(DoctorDayOff.doctor_id).where(DoctorDayOff.day == day)),
        )
    return _rows(query, narrow)


def doctor_offers(doctor: Doctor, service: Service, branch: Branch) -> str | None:
    """Why ``doctor`` cannot do ``service`` at ``branch`` (a message), or None when they can."""
    if not (doctor.is_active and service.is_active and branch.is_active):
        return "This doctor, service or branch is not available"
    if service not in doctor.services:
        return "This doctor does not provide this service"
    if branch not in service.branches:
        return "This service is not offered at this branch"
    if branch not in doctor.branches:
        return "This doctor does not work at this branch"
    return None


# --- what a clinic bot offers: one organization's directory ----------------------------------------


def of_organization(organization_id: int) -> Narrow:
    """The ``narrow`` of one organization's branches, services or doctors (through their clinic)."""

    def narrow(query: sa.Select) -> sa.Select:
        model = query.column_descriptions[0]["entity"]
        return query.where(model.clinic_id.in_(sa.select(Clinic.id).where(Clinic.organization_id == organization_id)))

    return narrow


def organization_branches(organization_id: int) -> list[Branch]:
    """The active branches a clinic bot of ``organization_id`` lets its patients book at."""
    return list_branches(narrow=of_organization(organization_id))


@dataclass(frozen=True)
class BookingChoice:
    """What the patient has chosen so far in the booking flow (each one of the bot's organization)."""

    branch: Branch
    service: Service | None = None
    doctor: Doctor | None = None


def booking_choice(
    organization_id: int, branch_id: int, service_id: int | None = None, doctor_id: int | None = None
) -> BookingChoice:
    """The branch, service and doctor named by a booking button, each loaded within
    ``organization_id``: an id of another organization's row (an old or forged button) is "not
    found", like a missing one."""
    narrow = of_organization(organization_id)

    def load(model, row_id: int | None, what: str):
        if row_id is None:
            return None
        row = db.session.scalar(narrow(db.select(model).where(model.id == row_id)))
        if row is None:
            raise not_found(what)
        return row

    return BookingChoice(
        branch=load(Branch, branch_id, "Branch"),
        service=load(Service, service_id, "Service"),
        doctor=load(Doctor, doctor_id, "Doctor"),
    )
