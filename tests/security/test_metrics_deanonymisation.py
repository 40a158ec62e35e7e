"""Attack: read a respondent's answers out of the metrics a client sees on a dashboard.

Each test puts two worlds side by side that differ in what one respondent answered (or in whether they
answered yet) and asks whether the client can tell them apart: if the two views are the same, no arithmetic
on them can name that respondent's answer. The surveys have the helper's questions (colour, pets, rating,
comment); answers arrive through the public endpoint, as respondents send them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.support.clients import key, ok, workspace
from tests.support.resources import create_dashboard, create_survey

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio

Respondent = tuple[str, int, list[str] | None]
"""What one respondent answers: a colour, a rating, and pets (None: the optional question skipped)."""


class Dashboard:
    """A published survey on a client's dashboard: respondents answer it, the client reads its metrics."""

    def __init__(self, client: Client, demo: DemoData) -> None:
        self.client, self.demo = client, demo
        self.survey: dict[str, Any] = {}
        self.id = ""

    async def open(self, respondents: list[Respondent]) -> Dashboard:
        member = key(self.demo, "member", 0)
        self.survey = await create_survey(self.client, member, workspace(self.demo, 0), publish=True)
        self.id = await create_dashboard(self.client, member, workspace(self.demo, 0), [self.survey["id"]])
        for respondent in respondents:
            await self.answer(*respondent)
        return self

    async def answer(self, colour: str, rating: int, pets: list[str] | None = None) -> None:
        colour_id, pets_id, rating_id, _ = (question["id"] for question in self.survey["questions"])
        answers: list[dict[str, Any]] = [
            {"question_id": colour_id, "choice": colour},
            {"question_id": rating_id, "rating": rating},
        ]
        if pets is not None:
            answers.append({"question_id": pets_id, "choices": pets})
        ok(await self.client.post(f"/api/public/surveys/{self.survey['id']}/responses", json={"answers": answers}), 201)

    async def seen(self) -> dict[str, Any]:
        """What the client reads of the survey, without the ids that tell two surveys apart anyway."""
        detail = ok(await self.client.get(f"/api/dashboards/{self.id}", headers=key(self.demo, "client")))
        [metrics] = detail["metrics"]
        del metrics["survey_id"]
        for question in metrics["questions"]:
            del question["question_id"]
        return dict(metrics)


async def view(client: Client, demo: DemoData, respondents: list[Respondent]) -> dict[str, Any]:
    return await (await Dashboard(client, demo).open(respondents)).seen()


async def test_a_hidden_count_is_the_answered_total_minus_the_counts_shown(client: Client, demo: DemoData) -> None:
    """Ten answered the colour, Red 8 and Blue 0 were shown, Green "<5": Green was 10 - 8 - 0 = 2, exactly.

    Whether the two who did not pick Red both picked Green, or one of them picked Blue, must not show.
    """
    two_greens = [("Red", 4, None)] * 8 + [("Green", 4, None)] * 2
    green_and_blue = [("Red", 4, None)] * 8 + [("Green", 4, None), ("Blue", 4, None)]
    assert await view(client, demo, two_greens) == await view(client, demo, green_and_blue)


async def test_hidden_ratings_are_solved_from_the_answered_total_and_the_mean(client: Client, demo: DemoData) -> None:
    """Ten rated, every rating's count "<5" or 0, and a mean of 3.8: the ratings add up to 38, and of the
    counts of 1-4 that do, every one has a single respondent rating 1.

    One respondent rating 1 or 3 changes that mean (3.8 or 3.6), and nothing else that was shown.
    """
    ratings = [5, 5, 5, 4, 4, 4, 4, 3]
    one_low = [("Red", rating, None) for rating in [*ratings, 3, 1]]
    two_low = [("Red", rating, None) for rating in [*ratings, 1, 1]]
    assert await view(client, demo, one_low) == await view(client, demo, two_low)


async def test_zeros_around_a_lone_hidden_count_name_the_one_answer(client: Client, demo: DemoData) -> None:
    """One respondent of ten answered the optional pets question: answered 1, Cat 0, Dog 0, Fish "<5"."""
    skipped: list[Respondent] = [("Red", 4, None)] * 9
    fish = await view(client, demo, [*skipped, ("Red", 4, ["Fish"])])
    dog = await view(client, demo, [*skipped, ("Red", 4, ["Dog"])])
    assert fish == dog


async def test_polling_before_and_after_one_respondent_answers(client: Client, demo: DemoData) -> None:
    """The client reads the dashboard, a colleague answers, the client reads it again: what changed is theirs.

    Even counts rounded to 5 give it away when one crosses a boundary: Green 7 (shown 5) becomes 8 (shown
    10). Until four more have answered, the client's view stays as it was; then it moves by five at once.
    """
    dashboard = await Dashboard(client, demo).open([("Red", 3, None)] * 3 + [("Green", 5, None)] * 7)
    before = await dashboard.seen()
    await dashboard.answer("Green", 1, ["Fish"])
    assert await dashboard.seen() == before
    for colour in ("Red", "Blue", "Blue"):
        await dashboard.answer(colour, 3)
        assert await dashboard.seen() == before
    await dashboard.answer("Red", 3)
    after = await dashboard.seen()
    assert (before["total"], after["total"]) == (10, 15)
