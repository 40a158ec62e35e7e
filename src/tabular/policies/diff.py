"""`tabular policy diff`: which matrix cells a policy change moves, and which declared routes answer differently.

A cell is (role, credential, situation, resource, action); it changes when its status or reason code does (a
renamed rule that decides the same is not a change of behaviour). The routes moved are the declared routes of
either side whose (resource, action) has a changed cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tabular.vocabulary import Reason

if TYPE_CHECKING:
    from tabular.policies.document import PolicyDocument, RouteView
    from tabular.policies.matrix import Row

Cell = tuple[str, str, str, str, str]
"""(role, credential, situation, resource, action)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One cell, before and after (None where a side has no such cell: a resource or action added or removed)."""

    cell: Cell
    old: Row | None
    new: Row | None


@dataclass(frozen=True, slots=True)
class PolicyDiff:
    """The changed cells, in a stable order, and the routes they move."""

    changes: list[Change]
    routes: list[RouteView]


def diff(old: PolicyDocument, new: PolicyDocument) -> PolicyDiff:
    """What changes from `old` to `new`."""
    before, after = _cells(old), _cells(new)
    changes = [
        Change(cell, before.get(cell), after.get(cell))
        for cell in sorted(before.keys() | after.keys())
        if _answer(before.get(cell)) != _answer(after.get(cell))
    ]
    moved = {(change.cell[3], change.cell[4]) for change in changes}
    seen: dict[tuple[str, str], RouteView] = {}
    for route in [*new.routes, *old.routes]:
        if (route.resource, route.action) in moved:
            seen.setdefault((route.method, route.path), route)
    return PolicyDiff(changes, sorted(seen.values(), key=lambda route: (route.path, route.method)))


def to_text(result: PolicyDiff) -> str:
    """The review artifact: one line per changed cell, then the routes they move."""
    if not result.changes:
        return "no cell of the matrix changes\n"
    lines = [f"{len(result.changes)} cells change (role credential situation resource action: old -> new):"]
    lines += [f"  {' '.join(change.cell)}: {_short(change.old)} -> {_short(change.new)}" for change in result.changes]
    lines.append(f"{len(result.routes)} declared routes answer differently:")
    lines += [f"  {route.method} {route.path} ({route.resource} {route.action})" for route in result.routes]
    return "\n".join(lines) + "\n"


def _cells(policy: PolicyDocument) -> dict[Cell, Row]:
    return {(r.role, r.credential, r.situation, r.resource, r.action): r for r in policy.matrix}


def _answer(row: Row | None) -> tuple[int, str] | None:
    return None if row is None else (row.status, row.code)


def _short(row: Row | None) -> str:
    if row is None:
        return "(no cell)"
    return f"{row.status} [{row.rule}]" if row.code == Reason.ALLOWED.value else f"{row.status} {row.code} [{row.rule}]"
