"""Second factor: enrol, confirm, disable, recovery codes, and the throttled check every path uses."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Final, Literal

from sqlalchemy import delete, select, update

from tabular.auth import totp
from tabular.db import RecoveryCode, User
from tabular.db.base import utcnow
from tabular.errors import Conflict, TooManyRequests, Unauthorized
from tabular.services.audit import AuditEventType, record_by

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.identities import IdentityStore

MAX_FAILURES: Final = 5
LOCKOUT: Final = dt.timedelta(minutes=15)
_SECOND_FACTOR_STATE: Final = ["totp_secret", "totp_last_step", "mfa_enabled_at", "mfa_failures", "mfa_failed_at"]

SecondFactor = Literal["totp", "recovery_code"]


class MfaService:
    """Everything that reads or changes a user's second factor."""

    def __init__(self, session: AsyncSession, identities: IdentityStore) -> None:
        self.session = session
        self.identities = identities

    async def setup(self, user: User) -> tuple[str, str]:
        """A new pending secret and its otpauth URI; MFA is on only once a code confirms it."""
        if user.mfa_enabled:
            raise Conflict(
                "MFA is already enabled; disable it first to enrol a new device.", code="mfa_already_enabled"
            )
        user.totp_secret, user.totp_last_step = totp.new_secret(), None
        await self.session.flush()
        return user.totp_secret, totp.provisioning_uri(user.totp_secret, user.email)

    async def confirm(self, user: User, code: str, client_ip: str | None) -> list[str]:
        """Turn MFA on with a first valid code; returns ten recovery codes, shown once."""
        if user.mfa_enabled:
            raise Conflict("MFA is already enabled.", code="mfa_already_enabled")
        if user.totp_secret is None:
            raise Conflict("Start with POST /api/auth/mfa/setup.", code="mfa_not_set_up")
        await self.verify(user, code, client_ip, allow_recovery=False)
        user.mfa_enabled_at = utcnow()
        codes = await self._replace_recovery_codes(user)
        await record_by(self.session, AuditEventType.MFA_ENABLED, user, client_ip)
        self.identities.forget_on_commit(self.session, user_ids=[user.id])
        return codes

    async def disable(self, user: User, code: str, client_ip: str | None) -> None:
        """Turn MFA off; needs a current code (or a recovery code)."""
        self._require_enabled(user)
        await self.verify(user, code, client_ip)
        user.totp_secret, user.mfa_enabled_at, user.totp_last_step = None, None, None
        await self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        await record_by(self.session, AuditEventType.MFA_DISABLED, user, client_ip)
        self.identities.forget_on_commit(self.session, user_ids=[user.id])

    async def regenerate_recovery_codes(self, user: User, code: str, client_ip: str | None) -> list[str]:
        """Ten new recovery codes (the old ones stop working); needs a current TOTP code."""
        self._require_enabled(user)
        await self.verify(user, code, client_ip, allow_recovery=False)
        codes = await self._replace_recovery_codes(user)
        await record_by(self.session, AuditEventType.MFA_RECOVERY_CODES_REGENERATED, user, client_ip)
        return codes

    async def verify(
        self, user: User, code: str, client_ip: str | None, *, allow_recovery: bool = True
    ) -> SecondFactor:
        """Accept a TOTP code at most once, or an unused recovery code; throttle wrong ones per user.

        A wrong code is counted and audited in a committed transaction before the 401, so failing the
        request does not undo the count. Checks of one user's codes run one at a time (see `_lock`).
        """
        await self._lock(user)
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
            await record_by(self.session, AuditEventType.MFA_FAILED, user, client_ip)
            await self.session.commit()
            raise Unauthorized("The code is wrong, expired or already used.", code="invalid_otp")
        user.mfa_failures, user.mfa_failed_at = 0, None
        if factor == "recovery_code":
            await record_by(self.session, AuditEventType.MFA_RECOVERY_CODE_USED, user, client_ip)
        return factor

    async def _lock(self, user: User) -> None:
        """Hold the user's row until this transaction ends, then re-read its second-factor state.

        Concurrent requests with the same code, or a burst of guesses, are then checked one after the
        other against committed state: a code is accepted at most once and every wrong one is counted.
        A no-op UPDATE is the lock both engines honour (SQLite has no SELECT ... FOR UPDATE and takes its
        write lock at the first write).
        """
        await self.session.execute(
            update(User).where(User.id == user.id).values(mfa_failures=User.mfa_failures),
            execution_options={"synchronize_session": False},
        )
        await self.session.refresh(user, attribute_names=_SECOND_FACTOR_STATE)

    async def _match(self, user: User, code: str, *, allow_recovery: bool) -> SecondFactor | None:
        if user.totp_secret is not None:
            step = totp.matching_step(user.totp_secret, code, user.totp_last_step)
            if step is not None:
                user.totp_last_step = step
                return "totp"
        if not allow_recovery:
            return None
        recovery = await self.session.scalar(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == totp.hash_recovery_code(code),
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
        self.session.add_all(RecoveryCode(user_id=user.id, code_hash=totp.hash_recovery_code(c)) for c in codes)
        await self.session.flush()
        return codes

    @staticmethod
    def _require_enabled(user: User) -> None:
        if not user.mfa_enabled:
            raise Conflict("MFA is not enabled.", code="mfa_not_enabled")
