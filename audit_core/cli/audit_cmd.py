"""``auditround audit``: check the audit trail."""

from __future__ import annotations

import typer
from rich.console import Console

from audit_core.cli.common import STATE, console, print_json

app = typer.Typer(help="Check the audit trail.", no_args_is_help=True)

EXIT_BROKEN = 5  # the audit trail was changed behind auditround's back


def _noted(value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    seq, _, digest = value.partition(":")
    digest = digest.strip().lower()
    if not seq.strip().isdigit() or len(digest) != 64 or digest.strip(_HEX):
        raise typer.BadParameter("give the place and hash verify printed, as SEQ:HASH")
    return int(seq), digest


_HEX = "0123456789abcdef"


@app.command("verify")
def verify(
    noted: str | None = typer.Option(
        None,
        "--noted",
        metavar="SEQ:HASH",
        help="A place and hash printed by an earlier verify and kept elsewhere: the event "
        "there must still have it (this shows even a trail rewritten whole).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a sentence."),
) -> None:
    """Check every audit event against its hash and the one before it, and the trail against
    its head; name the first broken link (exit code 5) or say how many events were checked."""
    checked = STATE.app.verify_trail(_noted(noted))
    broken = checked.broken
    if as_json:
        print_json(
            {
                "intact": checked.intact,
                "checked": checked.checked,
                "last_seq": checked.last_seq,
                "last_hash": checked.last_hash,
                "broken": None
                if broken is None
                else {
                    "why": broken.why,
                    "seq": broken.seq,
                    "event_id": broken.event_id,
                    "count": broken.count,
                    "message": broken.sentence(),
                },
            }
        )
    elif broken is None:
        console.print(checked.sentence(), highlight=False, soft_wrap=True)
        if checked.checked:
            console.print(
                "To show later that it was not rewritten, keep this elsewhere and run: "
                f"auditround audit verify --noted {checked.last_seq}:{checked.last_hash}",
                highlight=False,
                soft_wrap=True,
            )
    if broken is not None:
        Console(stderr=True).print(
            f"[bold red]Error:[/] {broken.sentence()}.", highlight=False, soft_wrap=True
        )
        raise typer.Exit(EXIT_BROKEN)
