"""Administration: people and their roles."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from ..extensions import db
from ..models import Role, User
from ..security import role_required
from ..sessions import figures as session_figures
from ..sessions.booking import management_chain_of
from .forms import PersonForm, RoleForm

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
    if person.id == current_user.id and new_role is not Role.ADMIN:
        abort(400, description="You cannot remove your own administrator role. Ask another administrator.")
    person.role = new_role
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
    manager_email = (form.manager_email.data or "").strip().lower()
    manager = db.session.scalar(select(User).where(func.lower(User.email) == manager_email)) if manager_email else None
    if manager_email and manager is None:
        form.manager_email.errors = [f"Nobody has the e-mail address {manager_email}. Check it, or leave the field empty."]
    elif manager is not None and (manager.id == person.id or person.id in management_chain_of(db.session, manager.id)):
        form.manager_email.errors = [f"{manager.name} reports to {person.name}: this would make a loop in the management chain."]
    if form.manager_email.errors:
        return render_template("admin/person.html", form=form, person=person), 400
    person.site = form.site.data or person.site
    person.department = (form.department.data or "").strip() or None
    session_figures.refresh_for_mentors(db.session, [person.id])  # the learners they reached count for their new site
    person.manager_id = manager.id if manager else None
    flash(f"{person.name}'s details are saved.", "success")
    return redirect(url_for("admin.users"))
