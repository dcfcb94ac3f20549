"""Administration: people and their roles."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from .extensions import db
from .forms import RoleForm
from .models import Role, User
from .security import role_required

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
