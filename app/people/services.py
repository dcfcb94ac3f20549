"""People in the organisation: their role, site, department and manager, as the admin page and the people import change them.

Both callers go through these functions, so that what follows from a person's place (the learners a mentor reached
count for the mentor's site) follows from every change, and a management chain never loops.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from course.sessions import management_chain

from ..models import Role, User
from ..sessions import figures as session_figures


class PeopleError(ValueError):
    """A change to someone's place that is refused: `field` names the form field, `message` what to do."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class Place:
    """Where a person stands in the organisation."""

    site: str
    department: str | None
    manager_email: str | None


def managers_around(session: Session, people: Collection[int]) -> dict[int, int | None]:
    """The manager of everyone in the chains above `people`, walked up one level per query."""
    managers: dict[int, int | None] = {}
    frontier = set(people)
    while frontier:
        rows = session.execute(select(User.id, User.manager_id).where(User.id.in_(frontier))).all()
        managers.update(dict(rows))
        frontier = {manager for _, manager in rows if manager is not None and manager not in managers}
    return managers


def management_chain_of(session: Session, person_id: int) -> list[int]:
    """Everyone above a person, nearest first."""
    return management_chain(person_id, managers_around(session, [person_id]))


def change_role(person: User, role: Role, acting: User) -> None:
    """Give `person` a role; an administrator cannot take away their own administrator role."""
    if person.id == acting.id and role is not Role.ADMIN:
        raise PeopleError("role", "You cannot remove your own administrator role. Ask another administrator.")
    person.role = role


def place_person(session: Session, person: User, place: Place) -> None:
    """Move a person to a site, department and manager; an unknown manager or a loop in the chain is refused."""
    manager = _manager_for(session, person, place.manager_email)
    person.site = place.site
    person.department = place.department
    person.manager_id = manager.id if manager else None
    session.flush()
    people_moved(session, [person.id])


def people_moved(session: Session, person_ids: Collection[int]) -> None:
    """What follows from people changing site or role: the learners they reached as mentors count for their new site."""
    session_figures.refresh_for_mentors(session, list(person_ids))


def _manager_for(session: Session, person: User, manager_email: str | None) -> User | None:
    email = (manager_email or "").strip().lower()
    if not email:
        return None
    manager: User | None = session.scalar(select(User).where(func.lower(User.email) == email))
    if manager is None:
        raise PeopleError("manager_email", f"Nobody has the e-mail address {email}. Check it, or leave the field empty.")
    if manager.id == person.id or person.id in management_chain_of(session, manager.id):
        raise PeopleError("manager_email", f"{manager.name} reports to {person.name}: this would make a loop in the management chain.")
    return manager
