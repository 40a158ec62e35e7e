"""A survey's responses as one file (CSV or NDJSON), written while the rows are read: memory stays flat.

The request's transaction ends before the answer starts (`tabular.transaction`), before the body is sent,
so the file is read on a connection of its own from the same engine: one query, ordered oldest first, fetched
`BATCH` rows at a time (a server-side cursor on PostgreSQL, `fetchmany` on SQLite), each batch written out
before the next is fetched. Nothing is written to the database; the export is one request to the limiter.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import TYPE_CHECKING, Any, Final

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tabular.db import Answer, Response
from tabular.schemas.responses import AnswerView, ExportFormat, ResponseView
from tabular.services.actor import Service
from tabular.services.common import aware
from tabular.services.responses import answers_in_order

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import AsyncIterator, Iterable
    from uuid import UUID

    from sqlalchemy import Row, Select

    from tabular.db import Question, Survey
    from tabular.services.responses import AnswerValue

BATCH: Final = 1000
"""Rows (one per answer value) fetched at a time."""

MEDIA_TYPES: Final = {ExportFormat.CSV: "text/csv", ExportFormat.NDJSON: "application/x-ndjson"}
"""Litestar adds `; charset=utf-8` to a text/* type itself (naming it here sent it twice)."""
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP's CSV injection list)."""
CHOICE_SEPARATOR: Final = "; "
FIXED_COLUMNS: Final = ("id", "created_at", "completed", "submitted_by_id", "respondent_name", "respondent_email")

_COLUMNS: Final = (
    Response.id,
    Response.created_at,
    Response.completed,
    Response.submitted_by_id,
    Response.respondent_name,
    Response.respondent_email,
    Answer.question_id,
    Answer.choice,
    Answer.rating,
    Answer.text,
)
_QUESTION: Final = _COLUMNS.index(Answer.question_id)


class ExportService(Service):
    """Members and admins export the responses they may list (the guard decided on the survey)."""

    def export(self, survey: Survey, file_format: ExportFormat, since: dt.datetime | None) -> AsyncIterator[bytes]:
        """The file's bytes, in pieces; `since` (inclusive, with a zone) keeps the responses from then on.

        Checks its input now, before the answer starts: a bad `since` is a 422, not a broken download.
        """
        query = select(*_COLUMNS).outerjoin(Answer, Answer.response_id == Response.id)
        query = query.where(Response.survey_id == survey.id)
        if since is not None:
            query = query.where(Response.created_at >= aware(since, "since"))
        ordered = query.order_by(Response.created_at, Response.id)
        engine = self.session.bind
        if not isinstance(engine, AsyncEngine):
            raise TypeError("an export reads through the application's engine")
        writer = _csv if file_format is ExportFormat.CSV else _ndjson
        return writer(survey.id, list(survey.questions), _responses(engine, ordered))


async def _responses(engine: AsyncEngine, query: Select[Any]) -> AsyncIterator[list[_ResponseRows]]:
    """Each batch's responses, whole: the rows of a response cut by a batch's end wait for the next batch."""
    async with engine.connect() as connection:  # Core rows: no ORM loading for a read that builds no model
        result = await connection.stream(query.execution_options(yield_per=BATCH))
        pending: _ResponseRows | None = None
        async for batch in result.partitions(BATCH):
            done: list[_ResponseRows] = []
            for row in batch:
                if pending is None or pending.head[0] != row[0]:  # the response's id
                    if pending is not None:
                        done.append(pending)
                    pending = _ResponseRows(row)
                if row[_QUESTION] is not None:  # a response without answers joins one row of nulls
                    pending.answers[row[_QUESTION]].append(row)
            yield done
        if pending is not None:
            yield [pending]


class _ResponseRows:
    """One response's columns and its answer values per question, as read from the joined rows."""

    __slots__ = ("answers", "head")

    def __init__(self, head: Row[Any]) -> None:
        self.head = head
        self.answers: defaultdict[Any, list[AnswerValue]] = defaultdict(list)

    def view(self, survey_id: UUID, questions: list[Question]) -> ResponseView:
        head = self.head
        return ResponseView(
            id=head.id,
            survey_id=survey_id,
            created_at=head.created_at,
            completed=head.completed,
            submitted_by_id=head.submitted_by_id,
            respondent_name=head.respondent_name,
            respondent_email=head.respondent_email,
            answers=answers_in_order(questions, self.answers),
        )


async def _ndjson(
    survey_id: UUID, questions: list[Question], batches: AsyncIterator[list[_ResponseRows]]
) -> AsyncIterator[bytes]:
    """One response per line, as `GET …/responses` shows each."""
    encoder = msgspec.json.Encoder()
    buffer = bytearray()
    async for batch in batches:
        for response in batch:
            encoder.encode_into(response.view(survey_id, questions), buffer, -1)
            buffer.extend(b"\n")
        if buffer:
            yield bytes(buffer)
            buffer.clear()


async def _csv(
    survey_id: UUID, questions: list[Question], batches: AsyncIterator[list[_ResponseRows]]
) -> AsyncIterator[bytes]:
    """A header, then one row per response: the fixed columns, then one column per question in order."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_safe([*FIXED_COLUMNS, *(f"{q.position + 1}. {q.text}" for q in questions)]))
    yield out.getvalue().encode()
    async for batch in batches:
        out.seek(0)
        out.truncate()
        for response in batch:
            view = response.view(survey_id, questions)
            by_question = {answer.question_id: answer for answer in view.answers}
            writer.writerow(
                _safe(
                    [
                        str(view.id),
                        view.created_at.isoformat().replace("+00:00", "Z"),
                        "true" if view.completed else "false",
                        str(view.submitted_by_id or ""),
                        view.respondent_name or "",
                        view.respondent_email or "",
                        *(_cell(by_question.get(question.id)) for question in questions),
                    ]
                )
            )
        yield out.getvalue().encode()


def _cell(answer: AnswerView | None) -> str:
    """An answer in one cell: the choice, the choices joined by `; ` in the question's order, the rating or text."""
    if answer is None:
        return ""
    if answer.choices is not None:
        return CHOICE_SEPARATOR.join(answer.choices)
    if answer.rating is not None:
        return str(answer.rating)
    return answer.choice or answer.text or ""


def _safe(cells: Iterable[str]) -> list[str]:
    """Cells a spreadsheet shows as written: one that would start a formula gets a leading `'`."""
    return [f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell for cell in cells]
