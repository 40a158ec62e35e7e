"""Proving the password: to sign in, and again, recently, before changing what guards an account.

Every check counts against one quota per account (the email, whether an account has it or not, so running
out says nothing about which emails exist), except from an address the account signed in from lately: an
attacker rotating addresses is slowed to the quota, while its owner, where they usually sign in, is never
locked out by someone else's guesses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import TYPE_CHECKING, Final
from uuid import UUID

from sqlalchemy import select

from tabular.auth.passwords import hash_password, salted_with, verify_password
from tabular.db.audit import AuditEvent, AuditEventType
from tabular.db.base import utcnow
from tabular.errors import Forbidden, TooManyRequests
from tabular.ratelimit.window import Hit
from tabular.services.actor import Service
from tabular.settings import RECENT_SIGN_IN

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tabular.db import User

KNOWN_ADDRESS_FOR: Final = dt.timedelta(days=30)
"""How long an address an account signed in from stays exempt from the account's quota."""
PASSWORD_REQUIRED: Final = (
    "This step needs a recent proof of your password: send it as `password`, or sign in again "
    f"(a sign-in counts for {RECENT_SIGN_IN // dt.timedelta(minutes=1)} minutes)."
)
_NOBODY: Final = UUID(int=0)


class PasswordService(Service):
    """The password checks of sign-in, password change and the steps that need a recent proof."""

    async def hash(self, email: str, password: str) -> str:
        """What an account with `email` stores of `password`: argon2id under the email's keyed salt."""
        at_rest = self.actor.at_rest
        return await hash_password(password, at_rest.password_salt(email), using=at_rest.password_hasher)

    async def upgrade(self, user: User, password: str) -> None:
        """After a sign-in that proved `password`: rehash it if it predates today's parameters or keyed salts."""
        stored = user.password_hash
        at_rest = self.actor.at_rest
        if stored is None or not salted_with(stored, at_rest.password_salt(user.email), using=at_rest.password_hasher):
            user.password_hash = await self.hash(user.email, password)

    async def check(self, user: User | None, email: str, password: str) -> bool:
        """Whether `password` is `user`'s (never for no user), at the same cost and quota either way."""
        return await self.matching([user] if user else [], email, password) is not None

    async def matching(self, users: Sequence[User], email: str, password: str) -> User | None:
        """The first of `users` (the accounts with this email) whose password this is, or None.

        The typed password is hashed once under the email's salt and compared with each account's hash, so
        an unknown email, a wrong password and an email that other organizations have too all cost one
        argon2 run. An account whose hash predates keyed salts is verified alone instead (one run each, so an
        email with one account still costs one) until its next sign-in rehashes it (`upgrade`).
        429 `account_throttled` once the email's quota is spent, before any comparison.
        """
        if not await self._known_address(users):
            subject = "account:" + hashlib.sha256(email.encode()).hexdigest()[:32]
            engine = self.actor.engine
            [allowance] = await engine.limiter.hit([Hit(engine.password_attempts, subject)])
            if not allowance.allowed:
                raise TooManyRequests(
                    "Too many password attempts for this account; try again later.",
                    code="account_throttled",
                    headers={"Retry-After": str(allowance.reset)},
                )
        at_rest = self.actor.at_rest
        salt = at_rest.password_salt(email)
        older = {
            user.id: user.password_hash
            for user in users
            if user.password_hash and not salted_with(user.password_hash, salt, using=at_rest.password_hasher)
        }
        # the one argon2 run for every account under the email's salt (and for no account at all)
        typed = await self.hash(email, password) if len(older) < len(users) or not users else ""
        found = None
        for user in users:  # every one, even past a match: the time taken says nothing about which matched
            if user.id in older:  # hashed before salts were keyed, or under older parameters: a run of its own
                matches = await verify_password(older[user.id], password)
            else:
                matches = user.password_hash is not None and hmac.compare_digest(user.password_hash, typed)
            if matches and found is None:
                found = user
        return found

    async def prove(self, user: User, password: str | None) -> None:
        """The caller shows they know the password now: in the request, or by a sign-in within `RECENT_SIGN_IN`.

        403 `password_required` without either, `password_incorrect` for a wrong one. An operator at the CLI
        (no principal) proves nothing: they hold the database.
        """
        if self.actor.principal is None:
            return
        if password is None:
            if self.signed_in_recently():
                return
            raise Forbidden(PASSWORD_REQUIRED, code="password_required")
        if not await self.check(user, user.email, password):
            raise Forbidden("The password is incorrect.", code="password_incorrect")

    def signed_in_recently(self) -> bool:
        """Whether the caller's session proved the password within `RECENT_SIGN_IN` (pages then ask for none)."""
        principal = self.actor.principal
        signed_in = principal.signed_in_at if principal is not None else None
        return signed_in is not None and utcnow() - signed_in < RECENT_SIGN_IN

    async def _known_address(self, users: Sequence[User]) -> bool:
        """Whether one of the accounts signed in from this client's address within `KNOWN_ADDRESS_FOR`.

        Asked for an unknown email too (of nobody), so the answer costs the same either way.
        """
        if self.actor.client_ip is None:
            return False
        since = utcnow() - KNOWN_ADDRESS_FOR
        query = (
            select(AuditEvent.id)
            .where(
                AuditEvent.actor_user_id.in_([user.id for user in users] or [_NOBODY]),
                AuditEvent.event == AuditEventType.LOGIN_SUCCEEDED,
                AuditEvent.client_ip == self.actor.client_ip,
                AuditEvent.created_at > since,
            )
            .limit(1)
        )
        return await self.session.scalar(query) is not None
