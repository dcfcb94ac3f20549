"""Administration: people and their roles."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..extensions import db
from ..models import Role, User
from ..security import role_required, signed_in_user
from .forms import PersonForm, RoleForm
from .services import PeopleError, Place, change_role, place_person

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


@blueprint.route("/users")
@role_required(Role.ADMIN)
def users() -> str:
    """Everyone with an account, with a form to change each person's role."""
    people = db.session.scalars(select(User).order_by(User.name, User.id)).all()
    forms = {person.id: RoleForm(role=person.role.value, prefix=f"user-{person.id}") for person in people}
    return render_template("admin/users.html", people=people, forms=forms)


@blueprint.route("/users/<int:user_id>/role", methods=["POST"])
@role_required(Role.ADMIN)
def set_role(user_id: int) -> Response:
    """Give a person a role; an administrator cannot remove their own administrator role."""
    person = db.session.get(User, user_id)
    if person is None:
        abort(404, description="There is no such person.")
    form = RoleForm(prefix=f"user-{person.id}")
    if not form.validate_on_submit():
        abort(400, description="Choose one of the listed roles.")
    new_role = Role(form.role.data)
    try:
        change_role(person, new_role, acting=signed_in_user())
    except PeopleError as refused:
        abort(400, description=refused.message)
    flash(f"{person.name} is now {new_role.value}.", "success")
    return redirect(url_for("admin.users"))


@blueprint.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_person(user_id: int) -> ResponseReturnValue:
    """Edit a person's site, department and manager; a management cycle is refused."""
    person = db.session.get(User, user_id)
    if person is None:
        abort(404, description="There is no such person.")
    form = PersonForm(current_app.config["SITES"])
    if request.method == "GET":
        manager = db.session.get(User, person.manager_id) if person.manager_id else None
        form.site.data, form.department.data = person.site, person.department or ""
        form.manager_email.data = manager.email if manager else ""
    if not form.validate_on_submit():
        return render_template("admin/person.html", form=form, person=person), 400 if request.method == "POST" else 200
    place = Place(form.site.data or person.site, (form.department.data or "").strip() or None, form.manager_email.data)
    try:
        place_person(db.session, person, place)
    except PeopleError as refused:
        getattr(form, refused.field).errors = [refused.message]
        return render_template("admin/person.html", form=form, person=person), 400
    flash(f"{person.name}'s details are saved.", "success")
    return redirect(url_for("admin.users"))
