"""`tabular audit`: verify the audit log's hash chain, and print its head to keep elsewhere."""

from __future__ import annotations

import click

from tabular.cli.as_operator import run_as_operator
from tabular.db.audit import AuditChainBrokenError, Checkpoint, verify_chain


@click.group()
def audit() -> None:
    """The audit log."""


def _checkpoint(_context: click.Context, _parameter: click.Parameter, value: str | None) -> Checkpoint | None:
    try:
        return None if value is None else Checkpoint.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@audit.command("verify")
@click.option(
    "--checkpoint",
    callback=_checkpoint,
    metavar="COUNT:HASH",
    help="A head printed earlier by `tabular audit checkpoint`: fail if the log no longer reaches it unchanged.",
)
def audit_verify(checkpoint: Checkpoint | None) -> None:
    """Walk the whole hash chain in order, recomputing every keyed hash; fail at the first event that breaks it.

    The key comes from TABULAR_SECRET_KEY (or ./.tabular-secret), as the server's does. Without a checkpoint,
    events cut off the end of the log go unnoticed: the shorter chain is whole.
    """
    head = _verified(checkpoint)
    pinned = f"; the checkpoint's {checkpoint.count} events unchanged" if checkpoint else ""
    click.echo(f"audit chain intact: {head.count} events{pinned}")


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Verify the chain, then print its head as COUNT:HASH, to keep where the database's writers cannot reach.

    `tabular audit verify --checkpoint COUNT:HASH` later fails if events up to that one were removed or rewritten.
    """
    click.echo(str(_verified(None)))


def _verified(checkpoint: Checkpoint | None) -> Checkpoint:
    try:
        return run_as_operator(lambda actor: verify_chain(actor.session, checkpoint))
    except AuditChainBrokenError as exc:
        raise click.ClickException(str(exc)) from None
