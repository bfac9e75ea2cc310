"""Flow ``follow-up-actions``: the weekly follow-up of the actions that come out of the
lessons. No action is tracked yet, so it has nothing to do; it is scheduled already so
that both scheduling modes carry the whole cycle."""

from __future__ import annotations

from prefect import flow, get_run_logger


@flow(name="follow-up-actions")
def follow_up_actions(now: str | None = None) -> dict[str, int]:
    """Remind the owners of actions due or late (none are tracked yet)."""
    get_run_logger().info("no actions are tracked yet: nothing to follow up")
    return {"reminded": 0}
