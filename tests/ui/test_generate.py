"""The item generators behind `n`: valid for every kind, failing exactly the requested share when run
against the simulator's demo world, and bounded for kinds that name each target once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bulkdash.contract.kinds import KINDS, UNIQUE_TARGET_KINDS, OperationKind
from bulkdash.contract.validation import cross_item_conflict, validate_submission
from bulkdash.model.generate import (
    MAX_ITEMS_FILE_BYTES,
    GenerateError,
    describe_limits,
    fail_share_from_percent,
    failing_indices,
    generate,
    load_items,
    size_limit,
)
from bulkdash.session import DEMO_EMAIL, DEMO_PASSWORD, EmbeddedOptions, Session
from tests.conftest import wait_for
from tests.ui.helpers import SIZE, connected, make_app, open_new_bulk, until


def test_failing_indices_are_even_and_exact() -> None:
    assert failing_indices(100, 0.1) == {9, 19, 29, 39, 49, 59, 69, 79, 89, 99}
    assert failing_indices(10, 0) == set()
    assert failing_indices(7, 1) == set(range(7))
    assert len(failing_indices(10_000, 0.37)) == 3700


@pytest.mark.parametrize("kind", list(OperationKind))
@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
def test_generated_items_validate(kind: OperationKind, share: float) -> None:
    size = min(size_limit(kind, share) or 200, 200)
    items = generate(kind, size, share, token="x")
    valid = validate_submission(KINDS[kind], items)  # raises RequestInvalid on any problem
    assert len(valid) == size
    assert cross_item_conflict(KINDS[kind], valid) is None


def test_unique_target_kinds_are_bounded_and_say_so() -> None:
    assert size_limit(OperationKind.USER_INVITE) == 1
    assert size_limit(OperationKind.CARD_BLOCK) == 3
    assert size_limit(OperationKind.TRANSFERS) is None
    with pytest.raises(GenerateError, match="at most 1 items can succeed"):
        generate(OperationKind.USER_INVITE, 2, 0.0)
    # Failing items past the meaningful targets name cards that do not exist, so large failing bulks work.
    items = generate(OperationKind.CARD_BLOCK, 50, 0.96)  # 48 fail, 2 succeed
    assert len({i["pathParams"]["_id_"] for i in items}) == 50
    assert all(k in UNIQUE_TARGET_KINDS for k in (OperationKind.SPEND_RULES, OperationKind.CARD_REMOVE))


def test_load_items_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "items.json"
    path.write_text(json.dumps({"items": [{"pathParams": {"_id_": "5001"}}]}))
    assert load_items(path) == [{"pathParams": {"_id_": "5001"}}]
    path.write_text("{not json")
    with pytest.raises(GenerateError, match="is not JSON"):
        load_items(path)
    with pytest.raises(GenerateError, match="cannot read"):
        load_items(tmp_path / "missing.json")


def test_a_huge_items_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    # A user's /dev/zero grew the dashboard by 0.5 GB a second, and no message came. (Not /dev/zero here:
    # a regression would fill the test machine's memory.) Sparse: no disk is used.
    path = tmp_path / "huge.json"
    with path.open("wb") as file:
        file.truncate(MAX_ITEMS_FILE_BYTES + 1)
    with pytest.raises(GenerateError, match="larger than a submission may be"):
        load_items(path)


def test_an_items_path_that_is_no_regular_file_is_refused_without_blocking(tmp_path: Path) -> None:
    # Opening a named pipe waits for a writer: the dashboard froze until one came (a user's re-trial).
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(GenerateError, match="is not a regular file"):
        load_items(fifo)
    with pytest.raises(GenerateError, match="is not a regular file"):
        load_items(Path("/dev/zero"))
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    with pytest.raises(GenerateError, match="holds no items"):
        load_items(empty)


def test_items_nested_past_the_bound_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(GenerateError, match="nested deeper than 64 levels"):
        load_items(path)
    path.write_bytes(b"[\xff]")
    with pytest.raises(GenerateError, match="is not JSON"):
        load_items(path)


async def test_each_kind_fails_exactly_its_share_in_the_simulator() -> None:
    session = await Session.embedded(EmbeddedOptions(fresh=True, op_delay_ms=0, rate_limits="off"))
    try:
        client = session.client
        assert session.simulator is not None
        for kind in OperationKind:
            # Each kind against the seed world (a card blocked by one bulk would fail the next one's items).
            await session.simulator.engine.reset()
            await client.login(DEMO_EMAIL, DEMO_PASSWORD)  # a reset forgets tokens
            size = min(size_limit(kind, 0.3) or 20, 20)
            items = generate(kind, size, 0.3, token="sim")
            created = await client.submit(kind, items)
            await client.execute(created.bulkId)
            details = await wait_for(
                lambda b=created.bulkId: client.get_bulk(b), lambda d: str(d.status) not in ("RUNNING",)
            )
            counts = details.counts()
            expected_failed = len(failing_indices(size, 0.3))
            assert counts["FAILED"] == expected_failed, (kind, counts)
            assert counts["COMPLETED"] == size - expected_failed, (kind, counts)
    finally:
        await session.close()


def test_failing_items_is_a_percentage_from_0_to_100() -> None:
    assert fail_share_from_percent("10") == 0.1
    assert fail_share_from_percent(" 100 ") == 1.0
    assert fail_share_from_percent("") == 0.0
    for typo in ("10001", "-1", "100.5", "inf", "nan", "ten"):
        with pytest.raises(GenerateError, match="percentage from 0 to 100"):
            fail_share_from_percent(typo)


def test_the_unique_target_hint_says_what_happens_in_words() -> None:
    text = describe_limits(OperationKind.CARD_BLOCK)
    assert text == (
        "Block cards: a bulk may name each card only once and 3 demo cards can succeed, so at most 3 item(s) "
        "succeed. Failing items use demo cards where it fails, then card ids that do not exist (404)"
    )
    assert "demo world's name" not in text
    assert "1 demo user can succeed" in describe_limits(OperationKind.USER_INVITE)


async def test_the_dialog_refuses_a_failing_share_past_100_percent() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        screen = await open_new_bulk(pilot)
        screen.query_one("#new-fail").value = "10001"
        screen.query_one("#new-size").focus()
        await pilot.press("enter")
        error = screen.query_one("#new-error")
        await until(pilot, lambda: "0 to 100" in str(error.render()), what="the error")
        assert app.screen is screen  # nothing submitted


async def test_a_size_with_a_decimal_point_is_refused_not_read_without_it() -> None:
    """A user typed 5.5: the integer field dropped the "." and 55 operations were submitted."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        screen = await open_new_bulk(pilot)
        size = screen.query_one("#new-size")
        size.value = ""
        size.focus()
        await pilot.press("5", "full_stop", "5", "enter")
        assert size.value == "5.5"
        error = screen.query_one("#new-error")
        await until(pilot, lambda: "whole number" in str(error.render()), what="the error")
        assert app.screen is screen  # nothing submitted
