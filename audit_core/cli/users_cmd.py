"""``auditround users``: who may sign in to the dashboard, and with what password."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape
from rich.table import Table

from audit_core.cli.common import STATE, console, plural, print_json
from audit_core.domain.errors import AuditRoundError

app = typer.Typer(
    help="Add, list, disable or enable the dashboard's users, or set a new password.",
    no_args_is_help=True,
)

USER_ID = typer.Argument(..., help="The user's sign-in name, e.g. amara-bello.")
PASSWORD_STDIN = typer.Option(
    False,
    "--password-stdin",
    help="Read the password from the first line of standard input instead of asking.",
)


@app.command("add")
def add(
    user_id: str = USER_ID,
    name: str = typer.Option(..., "--name", help="Their name, as colleagues know it."),
    email: str = typer.Option(..., "--email", help="Their work email address."),
    role: str = typer.Option(
        ...,
        "--role",
        help="coordinator (runs the round from the dashboard) or qa (reads it only).",
    ),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Add a user of the dashboard; the password is asked for twice (at least 12 characters)."""
    from audit_core.services import users

    users.check_user_id(user_id)  # a mistake is told before a password is typed
    users.check_role(role)
    password = _password(password_stdin)
    app_ = STATE.app
    with app_.unit_of_work() as uow:
        user = users.add_user(
            uow, app_.passwords(), user_id, name=name, email=email, role=role, password=password
        )
        added = f"{user.role} '{user.id}' ({user.name})"
    console.print(f"Added {escape(added)}: they can sign in to the dashboard now.")


@app.command("list")
def list_users(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Every user: role, whether they may sign in, when their password was set, sessions open."""
    from audit_core.services import users

    with STATE.app.unit_of_work() as uow:
        found = users.list_users(uow)
    if as_json:
        print_json([user.to_json() for user in found])
        return
    if not found:
        console.print("No users yet: add the first coordinator with 'auditround users add'.")
        return
    table = Table(title=plural(len(found), "user"), title_justify="left")
    for column in ("user", "name", "email", "role", "active", "password set", "sessions"):
        table.add_column(column)
    for user in found:
        table.add_row(
            user.id,
            escape(user.name),
            escape(user.email),
            user.role,
            "yes" if user.active else "disabled",
            user.password_changed_at[:10],
            str(user.sessions),
        )
    console.print(table)


@app.command("disable")
def disable(user_id: str = USER_ID) -> None:
    """Stop a user signing in; their open sessions end at once."""
    _set_active(user_id, active=False)


@app.command("enable")
def enable(user_id: str = USER_ID) -> None:
    """Let a disabled user sign in again (with the password they had)."""
    _set_active(user_id, active=True)


@app.command("password")
def password(user_id: str = USER_ID, password_stdin: bool = PASSWORD_STDIN) -> None:
    """Set a new password for a user; their open sessions end at once."""
    from audit_core.services import users

    app_ = STATE.app
    with app_.unit_of_work() as uow:
        users.get_user(uow, user_id)  # an unknown name is told before a password is typed
    new = _password(password_stdin)
    with app_.unit_of_work() as uow:
        users.set_password(uow, app_.passwords(), user_id, new)
    console.print(f"New password set for '{escape(user_id)}'; their open sessions have ended.")


def _set_active(user_id: str, *, active: bool) -> None:
    from audit_core.services import users

    with STATE.app.unit_of_work() as uow:
        changed = users.set_active(uow, user_id, active=active)
    state = "enabled" if active else "disabled"
    if changed:
        ended = "" if active else "; their open sessions have ended"
        console.print(f"User '{escape(user_id)}' {state}{ended}.")
    else:
        console.print(f"User '{escape(user_id)}' was already {state}: nothing changed.")


def _password(from_stdin: bool) -> str:
    """The new password: the first line of standard input, or typed twice without echo."""
    from audit_core.services.users import check_password

    if from_stdin:
        typed = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if not typed:
            raise AuditRoundError("No password was given on standard input.")
    else:
        typed = typer.prompt("Password", hide_input=True, confirmation_prompt="Type it again")
    check_password(typed)
    return typed
