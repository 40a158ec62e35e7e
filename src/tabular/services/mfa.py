"""Second factor: enrol, confirm, disable, recovery codes, and the throttled check every path uses."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import TYPE_CHECKING, Final, Literal

from sqlalchemy import ColumnElement, delete, not_, select

from tabular.auth import totp
from tabular.auth.at_rest import UnreadableSecret, is_legacy
from tabular.db import ApiKey, RecoveryCode, User
from tabular.db.audit import AuditEventType
from tabular.db.base import hold, utcnow
from tabular.errors import Conflict, NotFound, TooManyRequests, Unauthorized
from tabular.services.actor import Service
from tabular.services.api_keys import ApiKeyService
from tabular.services.passwords import PasswordService

if TYPE_CHECKING:
    from tabular.auth.session_backend import IssuedSession

MAX_FAILURES: Final = 5
LOCKOUT: Final = dt.timedelta(minutes=15)
_SECOND_FACTOR_STATE: Final = ["totp_secret", "totp_last_step", "mfa_enabled_at", "mfa_failures", "mfa_failed_at"]

SecondFactor = Literal["totp", "recovery_code"]

_LEGACY_SECRET: Final[ColumnElement[bool]] = not_(User.totp_secret.contains(":"))
_LEGACY_CODE: Final[ColumnElement[bool]] = not_(RecoveryCode.code_hash.contains(":"))
"""Stored before 0004 (see `at_rest.is_legacy`): a TOTP secret in the clear, a bare SHA-256 hash."""


class MfaService(Service):
    """Everything that reads or changes a user's second factor: the caller's own, or (signing in) the user's."""

    async def own_user(self) -> User:
        """The caller's user row, held for this transaction's changes."""
        user_id = self.actor.caller.user_id
        user = (
            await self.session.get(User, user_id, populate_existing=True)
            if await hold(self.session, User, user_id)
            else None
        )
        if user is None:
            raise NotFound
        return user

    async def setup(self, user: User, password: str | None = None) -> tuple[str, str]:
        """A new pending secret and its otpauth URI; MFA is on only once a code confirms it.

        Every change to the second factor needs a recent proof of the password (`PasswordService.prove`): a
        stolen session alone cannot enrol the thief's authenticator, nor turn the owner's off.
        """
        if user.mfa_enabled:
            raise Conflict(
                "MFA is already enabled; disable it first to enrol a new device.", code="mfa_already_enabled"
            )
        await PasswordService(self.actor).prove(user, password)
        secret = totp.new_secret()
        user.totp_secret, user.totp_last_step = self.actor.at_rest.seal(secret, user.id), None
        await self.session.flush()
        return secret, totp.provisioning_uri(secret, user.email)

    async def confirm(self, user: User, code: str, password: str | None = None) -> tuple[list[str], IssuedSession]:
        """Turn MFA on with a first valid code: ten recovery codes (shown once), and a session that proved it.

        Every other session of the user ends (the token version moves on): none of them proved the factor,
        and one may be a thief's.
        """
        if user.mfa_enabled:
            raise Conflict("MFA is already enabled.", code="mfa_already_enabled")
        if user.totp_secret is None:
            raise Conflict("Start with POST /api/auth/mfa/setup.", code="mfa_not_set_up")
        await PasswordService(self.actor).prove(user, password)
        await self.verify(user, code, allow_recovery=False)
        user.mfa_enabled_at = utcnow()
        user.token_version += 1
        codes = await self._replace_recovery_codes(user)
        await self.actor.record(AuditEventType.MFA_ENABLED, as_user=user)
        self.actor.forget(user_ids=[user.id])
        signed_in_at = self.actor.caller.signed_in_at
        issued = self.actor.engine.tokens.issue(
            user.id, user.token_version, mfa_verified=True, signed_in_at=signed_in_at
        )
        return codes, issued

    async def disable(self, user: User, code: str, password: str | None = None) -> None:
        """Turn MFA off; needs a current code (or a recovery code). The user's keys are revoked with it.

        A key needs MFA to be made; one left working after MFA is gone would outlive the factor that vouched
        for it (a stolen session could otherwise turn MFA off and keep a key it minted).
        """
        self._require_enabled(user)
        await PasswordService(self.actor).prove(user, password)
        await self.verify(user, code)
        user.totp_secret, user.mfa_enabled_at, user.totp_last_step = None, None, None
        await self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        await self.actor.record(AuditEventType.MFA_DISABLED, as_user=user)
        active = select(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
        keys = ApiKeyService(self.actor)
        for key in await self.session.scalars(active):
            await keys.revoke(key, reason="mfa_disabled")
        self.actor.forget(user_ids=[user.id])

    async def regenerate_recovery_codes(self, user: User, code: str, password: str | None = None) -> list[str]:
        """Ten new recovery codes (the old ones stop working); needs a current TOTP code and a recent password."""
        self._require_enabled(user)
        await PasswordService(self.actor).prove(user, password)
        await self.verify(user, code, allow_recovery=False)
        codes = await self._replace_recovery_codes(user)
        await self.actor.record(AuditEventType.MFA_RECOVERY_CODES_REGENERATED, as_user=user)
        return codes

    async def enrol_by_operator(self, user: User) -> str:
        """MFA on for `user`, and its TOTP secret in the clear for the operator to hand over (the demo).

        The current secret is kept when this server's key opens it; one sealed under another key cannot be
        handed over, so it is replaced, as it is when MFA is off.
        """
        if user.mfa_enabled and user.totp_secret is not None:
            with contextlib.suppress(UnreadableSecret):
                secret = self.actor.at_rest.open(user.totp_secret, user.id)
                await self._seal_legacy(user)
                return secret
        secret = totp.new_secret()
        user.totp_secret, user.totp_last_step = self.actor.at_rest.seal(secret, user.id), None
        user.mfa_enabled_at = user.mfa_enabled_at or utcnow()
        return secret

    async def seal_legacy(self) -> int:
        """Seal every TOTP secret and key every recovery code stored before 0004; how many values it changed.

        `tabular serve` runs it at start, with the key it serves with; until then (or for a database upgraded
        by other means) a user's are sealed at their next second-factor check.
        """
        changed = 0
        for user in await self.session.scalars(select(User).where(_LEGACY_SECRET).with_for_update()):
            changed += await self._seal_legacy(user)
        return changed + await self._key_legacy_codes(_LEGACY_CODE)  # any left whose secret was sealed already

    async def verify(self, user: User, code: str, *, allow_recovery: bool = True) -> SecondFactor:
        """Accept a TOTP code at most once, or an unused recovery code; throttle wrong ones per user.

        A wrong code is counted and audited, and kept though the request answers 401, so failing it does
        not undo the count. Checks of one user's codes run one at a time (see `_lock`).
        """
        await self._lock(user)
        await self._seal_legacy(user)
        now = utcnow()
        if user.mfa_failed_at is not None and now >= user.mfa_failed_at + LOCKOUT:
            user.mfa_failures = 0  # the lockout (or the run of failures) is over: start counting afresh
        if user.mfa_failures >= MAX_FAILURES and user.mfa_failed_at is not None:
            retry_after = int((user.mfa_failed_at + LOCKOUT - now).total_seconds()) + 1
            raise TooManyRequests(
                "Too many wrong codes; try again later.",
                code="mfa_throttled",
                headers={"Retry-After": str(retry_after)},
            )
        factor = await self._match(user, code, allow_recovery=allow_recovery)
        if factor is None:
            user.mfa_failures, user.mfa_failed_at = user.mfa_failures + 1, now
            await self.actor.record(AuditEventType.MFA_FAILED, as_user=user)
            self.actor.keep_on_refusal()
            raise Unauthorized("The code is wrong, expired or already used.", code="invalid_otp")
        user.mfa_failures, user.mfa_failed_at = 0, None
        if factor == "recovery_code":
            await self.actor.record(AuditEventType.MFA_RECOVERY_CODE_USED, as_user=user)
        return factor

    async def _lock(self, user: User) -> None:
        """Hold the user's row until this transaction ends, then re-read its second-factor state.

        Concurrent requests with the same code, or a burst of guesses, are then checked one after the
        other against committed state: a code is accepted at most once and every wrong one is counted.
        """
        await hold(self.session, User, user.id)
        await self.session.refresh(user, attribute_names=_SECOND_FACTOR_STATE)

    async def _match(self, user: User, code: str, *, allow_recovery: bool) -> SecondFactor | None:
        if user.totp_secret is not None:
            secret = self.actor.at_rest.open(user.totp_secret, user.id)  # UnreadableSecret: a 500, logged
            step = totp.matching_step(secret, code, user.totp_last_step)
            if step is not None:
                user.totp_last_step = step
                return "totp"
        if not allow_recovery:
            return None
        recovery = await self.session.scalar(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash.in_(self.actor.at_rest.recovery_hashes(code)),
                RecoveryCode.used_at.is_(None),
            )
        )
        if recovery is None:
            return None
        recovery.used_at = utcnow()
        return "recovery_code"

    async def _replace_recovery_codes(self, user: User) -> list[str]:
        codes = totp.new_recovery_codes()
        await self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        recovery_hash = self.actor.at_rest.recovery_hash
        self.session.add_all(RecoveryCode(user_id=user.id, code_hash=recovery_hash(c)) for c in codes)
        await self.session.flush()
        return codes

    async def _seal_legacy(self, user: User) -> int:
        """Seal the user's secret left in the clear, and key the bare SHA-256 of their recovery codes with it."""
        if user.totp_secret is None or not is_legacy(user.totp_secret):
            return 0
        user.totp_secret = self.actor.at_rest.seal(user.totp_secret, user.id)
        return 1 + await self._key_legacy_codes(_LEGACY_CODE, RecoveryCode.user_id == user.id)

    async def _key_legacy_codes(self, *where: ColumnElement[bool]) -> int:
        codes = list(await self.session.scalars(select(RecoveryCode).where(*where)))
        for code in codes:
            code.code_hash = self.actor.at_rest.key_legacy_recovery_hash(code.code_hash)
        await self.session.flush()
        return len(codes)

    @staticmethod
    def _require_enabled(user: User) -> None:
        if not user.mfa_enabled:
            raise Conflict("MFA is not enabled.", code="mfa_not_enabled")
