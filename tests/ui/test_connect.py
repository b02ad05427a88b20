"""The connect screen: with two or more profiles in the config file, pick the embedded simulator or a
profile (connected in the app's worker), edit a profile's non-secret fields, never show a secret."""

from __future__ import annotations

import html
import os
import re
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bulkdash import config
from bulkdash.connect import EMBEDDED_TITLE, choices_from_file
from bulkdash.session import DEMO_PASSWORD, EmbeddedOptions, Session
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.screens.connect import ConnectScreen, ProfileEditScreen, SecretPromptScreen
from simulator.scenarios import list_scenarios
from simulator.server import start_embedded
from tests.simulator.helpers import sim_settings
from tests.ui.helpers import SIZE, connected, until

API_KEY = "sim-api-key-P1"
OTHER_KEY = "other-key-literal-7c6b5a"


@pytest.fixture
async def sim_url(tmp_path: Path) -> AsyncIterator[str]:
    _sim, server = await start_embedded(sim_settings(tmp_path / "sim"))
    yield server.url + "/multi"
    await server.stop()


@pytest.fixture
def config_file(tmp_path: Path, sim_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("BULKDASH_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the remote receiver's history db
    monkeypatch.setenv("TEST_SIM_PASSWORD", DEMO_PASSWORD)
    monkeypatch.setenv("TEST_SIM_KEY", API_KEY)
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[profiles.local-sim]
base_url = "{sim_url}"
api_key = "env:TEST_SIM_KEY"
email = "alice@acme.example"
password = "env:TEST_SIM_PASSWORD"

[profiles.other]
base_url = "http://127.0.0.1:9/multi"
api_key = "{OTHER_KEY}"
token = "env:TEST_NO_SUCH_TOKEN"
"""
    )
    path.chmod(0o600)
    return path


def make_connect_app(path: Path) -> BulkdashApp:
    async def embedded() -> Session:
        return await Session.embedded(EmbeddedOptions(fresh=True, op_delay_ms=0, rate_limits="off"))

    choices = choices_from_file(path, embedded)
    assert choices is not None
    return BulkdashApp(embedded, choices=choices, config_path=path, token="t")


def screen_text(app: BulkdashApp) -> str:
    """The screenshot's text (the SVG's tags stripped, its entities decoded)."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def drop_password(path: Path) -> None:
    path.write_text(path.read_text().replace('password = "env:TEST_SIM_PASSWORD"\n', ""))


def assert_no_secret(app: BulkdashApp) -> None:
    text = screen_text(app)
    for secret in (API_KEY, OTHER_KEY, DEMO_PASSWORD):
        assert secret not in text


async def test_connect_screen_lists_profiles_and_connects_to_the_chosen_one(config_file: Path) -> None:
    app = make_connect_app(config_file)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="the connect screen")
        text = screen_text(app)
        assert "Embedded simulator" in text and "local-sim" in text and "other" in text
        assert "login alice@acme.example" in text and "127.0.0.1:9/multi" in text
        assert_no_secret(app)
        assert app.session is None  # nothing connects before a choice
        await pilot.press("down", "enter")
        await until(pilot, lambda: app.session is not None, what="the profile's session")
        assert app.session is not None and not app.session.is_embedded
        assert app.connection.label.startswith("local-sim http://127.0.0.1")
        await connected(pilot)
        await until(pilot, lambda: "local-sim" in screen_text(app), what="the label in the status bar")
        assert_no_secret(app)


async def test_choosing_embedded_starts_the_simulator(config_file: Path) -> None:
    app = make_connect_app(config_file)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="the connect screen")
        await pilot.press("enter")
        await connected(pilot)
        assert app.session is not None and app.session.is_embedded
        assert "embedded simulator" in app.connection.label


async def test_editing_base_url_saves_the_file_private(config_file: Path, sim_url: str) -> None:
    app = make_connect_app(config_file)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="the connect screen")
        await pilot.press("down", "down", "e")
        await until(pilot, lambda: isinstance(app.screen, ProfileEditScreen), what="the edit dialog")
        assert_no_secret(app)
        field = app.screen.query_one("#edit-base-url")
        field.value = "not a url"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ProfileEditScreen)  # refused, the file unchanged
        assert "other" in config.load(config_file).profiles
        assert config.load(config_file).profiles["other"].base_url == "http://127.0.0.1:9/multi"
        field.value = "https://sandbox.example/multi"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="back to the list")
        assert "sandbox.example" in screen_text(app)
        assert_no_secret(app)
    saved = config.load(config_file).profiles
    assert saved["other"].base_url == "https://sandbox.example/multi"
    assert saved["other"].api_key is not None and saved["other"].api_key.get_secret_value() == OTHER_KEY
    assert (
        saved["other"].token is not None
        and saved["other"].token.get_secret_value() == "env:TEST_NO_SUCH_TOKEN"
    )
    assert saved["local-sim"].base_url == sim_url
    assert file_mode(config_file) == 0o600


async def test_a_missing_secret_is_asked_for_with_a_masked_input(
    config_file: Path, sim_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_SIM_PASSWORD")
    drop_password(config_file)
    app = make_connect_app(config_file)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ConnectScreen), what="the connect screen")
        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(app.screen, SecretPromptScreen), what="the secret prompt")
        field = app.screen.query_one("#secret-input")
        assert field.password
        field.value = DEMO_PASSWORD
        assert_no_secret(app)
        await pilot.press("enter")
        await until(pilot, lambda: app.session is not None, what="the profile's session")
        assert app.connection.label.startswith("local-sim")


def test_fewer_than_two_profiles_keep_the_embedded_default(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"

    async def embedded() -> Session:
        raise AssertionError("not called")

    assert choices_from_file(path, embedded) is None  # no file
    path.write_text('[profiles.one]\nbase_url = "https://x.example/multi"\napi_key = "env:K"\n')
    assert choices_from_file(path, embedded) is None
    choices = choices_from_file(path, embedded, minimum=1)
    assert choices is not None and choices[0].title == EMBEDDED_TITLE


async def test_a_standalone_simulator_reached_by_url_offers_scenarios_with_sim(
    sim_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``bulkdash --url …/multi --sim ROOT``: a dashboard on another process's simulator can train too."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    from bulkdash.cli import build_parser
    from bulkdash.cli.dashboard import connector_from_args

    root = sim_url.removesuffix("/multi")
    argv = ["--url", sim_url, "--api-key", API_KEY, "--email", "alice@acme.example", "--sim", root]
    args = build_parser().parse_args([*argv, "--password", DEMO_PASSWORD])
    app = BulkdashApp(connector_from_args(args), token="t", start="scenarios")
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        assert app.session is not None and app.session.sim_root == root
        table = app.screen.query_one("#scenarios-table")
        await until(
            pilot,
            lambda: table.row_count == len(list_scenarios()),
            what="the standalone simulator's scenarios",
        )
        assert app.check_action("world_pause", ())
