"""The bulk list spends no request on details while it is off screen (issue 16): a run's screen over it polls
that run itself, and the list fetches its rows' counts again the moment it is shown."""

from __future__ import annotations

from tests.service.test_parts import FakeClient, follower


async def test_off_screen_the_list_keeps_its_counts_without_asking() -> None:
    client = FakeClient(4)  # bulks 2 and 4 are RUNNING
    bulks, _ = follower(client)
    shown = await bulks.fetch()
    assert sorted(client.details) == ["1", "2", "3", "4"]
    client.details.clear()
    bulks.on_screen = False  # a run's screen is pushed over the list
    behind = await bulks.fetch()
    assert client.details == []  # the listing only: it still tells state changes apart
    assert client.pages and behind.details.keys() == shown.details.keys()  # the counts the rows had
    bulks.on_screen = True
    await bulks.fetch()
    assert sorted(client.details) == ["2", "4"]  # shown again: the running ones (the final ones are cached)
