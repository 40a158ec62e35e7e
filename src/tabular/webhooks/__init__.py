"""Webhooks: events pushed to endpoints a workspace registers, signed in the Standard Webhooks style.

`enqueue` adds deliveries in the caller's transaction (nothing is sent for a change that rolls back, and
nothing committed is lost); `DeliveryWorker` sends them; `verify` is what a receiver runs on what it gets.
"""

from __future__ import annotations

from tabular.webhooks.signing import InvalidSignature, sign, verify

__all__ = ["InvalidSignature", "sign", "verify"]
