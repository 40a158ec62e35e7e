"""A bare Litestar app: the baseline that `bench/load.py` holds Tabular against.

No authentication, no rate limiter, no access log, middleware, guards or exception handlers of Tabular's.
The same server settings as `tabular serve` (`tabular.cli.SERVER_OPTIONS`, logged on the first line):
uvicorn with uvloop and httptools, one worker, no `Server` header, no proxy headers, uvicorn's own access
log as `tabular serve` has it. It answers the same paths as Tabular:

- `GET /api/auth`: a constant who-am-I body, a `WhoAmIResponse` like the one Tabular renders per request;
- `GET /api/surveys/{id}`: the survey row and its questions, read from the same database through
  Tabular's models and session configuration (`make_db_config` under advanced-alchemy's `SQLAlchemyPlugin`,
  which commits on a 2xx answer as Tabular's does) and rendered by Tabular's `survey_view`, so the
  payload is byte for byte Tabular's;
- `POST /api/public/surveys/{id}/responses`: the rows a public submission stores, a `Response` and one
  `Answer` per value (per chosen option of a multiple choice), through the same models and session
  configuration, committed per request by the same `transaction_end`. The body is decoded by msgspec into
  Tabular's `ResponseCreate` in one pass, as Tabular's `typed_body.py` does, and nothing else is done: no
  survey read, no check of the answers against the questions, no webhook lookup. It is the floor of the
  write: what any Litestar app on these models pays to store the same rows.

Run: `uv run python bench/bare.py --port 8001 --database-url sqlite+aiosqlite:///tabular.db`
(`bench/load.py` starts it pinned to a core, next to `tabular serve`).
"""

from __future__ import annotations

import argparse
import json
import uuid
from typing import Any

import msgspec
import uvicorn
from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from litestar import Litestar, get, post
from litestar.exceptions import NotFoundException
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: TC002 - Litestar resolves handler annotations at runtime

from tabular.cli import SERVER_OPTIONS
from tabular.db import Answer, Response, Survey
from tabular.db.config import SESSION_DEPENDENCY_KEY, make_db_config
from tabular.schemas.auth import WhoAmI, WhoAmIResponse
from tabular.schemas.responses import ResponseCreate, ResponseCreated
from tabular.schemas.surveys import SurveyView  # noqa: TC001 - as above
from tabular.services.surveys import survey_view
from tabular.settings import Settings, normalize_database_url
from tabular.transaction import TransactionMiddleware

UNUSED_SECRET = "bench-bare-signs-nothing-" + "x" * 32
OPTIONS_LINE = "INFO:     bench/bare.py runs uvicorn as tabular serve does:"
"""The first line this app logs, followed by the options as JSON; `bench/load.py` prints them."""


def serve_options() -> dict[str, Any]:
    """What `tabular serve` passes to `uvicorn.run` besides the application, host, port and workers."""
    return dict(SERVER_OPTIONS)


_ORGANIZATION = uuid.UUID("01a22478-1b71-74e0-b2de-a2a24b0b2ef5")
WHO_AM_I = WhoAmIResponse(
    data=WhoAmI(
        user_id=uuid.UUID("01a22478-1b80-7000-8000-000000000001"),
        user_name="Ada Admin",
        user_email="admin@demo.tabular.test",
        organization_id=_ORGANIZATION,
        organization_name="Demo Research",
        tier="pro",
        role="admin",
        workspace_ids=[
            uuid.UUID("01a22478-1b78-714b-86f6-f5471f73c284"),
            uuid.UUID("01a22478-1b7c-712d-b3b7-ece0e7c7dccb"),
        ],
        credential="api_key",
        key_id=uuid.UUID("01a22478-1b90-7000-8000-000000000002"),
        read_only=False,
        pinned_workspace_id=None,
        mfa_enabled=True,
        mfa_verified=False,
    )
)
"""The shape of Tabular's `GET /api/auth` answer for the demo admin's API key (the values are made up)."""


@get("/api/auth")
async def who_am_i() -> WhoAmIResponse:
    """The constant who-am-I body."""
    return WHO_AM_I


@get("/api/surveys/{survey_id:uuid}")
async def get_survey(survey_id: uuid.UUID, db_session: AsyncSession) -> SurveyView:
    """One survey with its questions in order (they load with the row: `lazy="selectin"`)."""
    survey = await db_session.get(Survey, survey_id)
    if survey is None:
        raise NotFoundException
    return survey_view(survey)


@post("/api/public/surveys/{survey_id:uuid}/responses", status_code=201)
async def submit_response(survey_id: uuid.UUID, body: bytes, db_session: AsyncSession) -> ResponseCreated:
    """The response row and its answer rows, as Tabular stores them, from a body trusted to fit the survey.

    `completed` is True: Tabular stores True when every question is answered, which `bench/load.py`'s body
    does (it checks that both apps stored the same rows). The id comes from the flush, as in Tabular.
    """
    data = msgspec.json.decode(body, type=ResponseCreate)
    answers = [
        Answer(question_id=answer.question_id, choice=choice, rating=answer.rating, text=answer.text)
        for answer in data.answers
        for choice in (answer.choices if answer.choices is not None else [answer.choice])
    ]
    response = Response(
        survey_id=survey_id,
        submitted_by_id=None,
        completed=True,
        respondent_name=data.respondent_name,
        respondent_email=data.respondent_email,
        answers=answers,
    )
    db_session.add(response)
    await db_session.flush()
    return ResponseCreated(id=response.id)


def create_app(database_url: str) -> Litestar:
    """The three routes and the database plugin, nothing else."""
    settings = Settings(database_url=normalize_database_url(database_url), secret_key=UNUSED_SECRET)
    db_config = make_db_config(settings)
    assert db_config.session_dependency_key == SESSION_DEPENDENCY_KEY == "db_session"
    return Litestar(
        route_handlers=[who_am_i, get_survey, submit_response],
        plugins=[SQLAlchemyPlugin(config=db_config)],
        middleware=[TransactionMiddleware(db_config.session_scope_key)],  # ends each request's session, as Tabular's
        on_shutdown=[db_config.get_engine().dispose],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--database-url", required=True, help="The database Tabular serves, e.g. sqlite:///FILE")
    args = parser.parse_args()
    options = serve_options()
    print(OPTIONS_LINE, json.dumps(options, sort_keys=True), flush=True)
    uvicorn.run(lambda: create_app(args.database_url), factory=True, host=args.host, port=args.port, **options)


if __name__ == "__main__":
    main()
