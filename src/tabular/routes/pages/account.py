"""The page object every account page is built on: the request's person, and the one course of their forms.

A controller declares `"page": KeysPage.provide()`: the page is built per request from the request, its actor
(whose services the page calls) and the identity cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from litestar import Request
from litestar.di import NamedDependency, Provide

from tabular.auth.identities import IdentityStore
from tabular.errors import TabularError
from tabular.routes.pages.rendering import Failure, form_of, render
from tabular.services.actor import Actor
from tabular.services.auth import who_am_i
from tabular.services.passwords import PasswordService

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from litestar.response import Template

    from tabular.schemas.auth import WhoAmI

Form: TypeAlias = dict[str, str]
Shown: TypeAlias = dict[str, Any]
"""What a form's step gives the page to show (the keywords of `AccountPage.show`)."""


class AccountPage:
    """One account page for this request: who is signed in, and whether their sign-in still proves the password."""

    template: ClassVar[str]

    def __init__(self, request: Request[Any, Any, Any], actor: Actor, identities: IdentityStore) -> None:
        self.request, self.actor, self.identities = request, actor, identities
        self.passwords = PasswordService(actor)

    @classmethod
    def provide(cls) -> Provide:
        """This page as a route dependency (a function here: Litestar reads its annotations in this module)."""

        def build(
            request: Request[Any, Any, Any], actor: NamedDependency[Actor], identities: NamedDependency[IdentityStore]
        ) -> AccountPage:
            return cls(request, actor, identities)

        return Provide(build, sync_to_thread=False)

    async def show(self, failure: Failure | None = None, **shown: Any) -> Template:  # noqa: ANN401
        """The page, with the account as the engine resolved it and what this request did (`shown`)."""
        account = await who_am_i(self.identities, self.actor.caller)
        return render(
            self.template,
            self.request,
            failure=failure,
            account=account,
            needs_password=not self.passwords.signed_in_recently(),
            **await self.context(account, **shown),
        )

    async def context(self, account: WhoAmI, **shown: Any) -> Shown:  # noqa: ANN401, ARG002 - a page's own hook
        """What the page shows besides the account: `shown`, and what a page adds to it (overridden)."""
        return shown

    async def submit(self, step: Callable[[Form], Awaitable[Shown]], *, form: str = "", **refused: Any) -> Template:  # noqa: ANN401
        """Every form's one course: `step` turns the submitted fields into what the page shows beside it.

        A refusal shows the page with the service's sentence on `form`'s fields (of a page of several), the
        fields as they were sent (`sent`, to fill the form in again), and `refused`.
        """
        fields = await form_of(self.request)
        try:
            shown = await step(fields)
        except TabularError as error:
            return await self.show(Failure.of(error, form=form), sent=fields, **refused)
        return await self.show(**shown)
