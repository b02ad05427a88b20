"""Profiles in the TOML config file: lookup, environment overrides, secrets, bad files, permissions, CLI."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from bulkdash import config
from bulkdash.cli import build_parser, main
from bulkdash.cli.dashboard import profile_from_args

LITERAL_KEY = "live-key-9f8e7d6c5b4a"
LITERAL_PASSWORD = "s3cret-Passw0rd!"

GOOD = f"""
[profiles.sandbox]
base_url = "https://sandbox.weavr.io/multi"
api_key = "env:TEST_WEAVR_KEY"
email = "ops@acme.example"
password = "env:TEST_WEAVR_PASSWORD"
receiver_port = 9100

[profiles.live]
base_url = "https://api.weavr.io/multi"
api_key = "{LITERAL_KEY}"
password = "{LITERAL_PASSWORD}"
email = "ops@acme.example"
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("BULKDASH_") or name.startswith("TEST_WEAVR_"):
            monkeypatch.delenv(name)


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.config_path() == config.default_path()
    assert config.default_path().parts[-2:] == ("bulkdash", "config.toml")
    monkeypatch.setenv("BULKDASH_CONFIG", str(tmp_path / "env.toml"))
    assert config.config_path() == tmp_path / "env.toml"
    assert config.config_path(tmp_path / "flag.toml") == tmp_path / "flag.toml"


def test_a_profile_with_env_secrets_resolves(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    env = {"TEST_WEAVR_KEY": "k-from-env", "TEST_WEAVR_PASSWORD": "p-from-env"}
    profile = config.resolve(
        config.select(config.load(path), "sandbox", path), "sandbox", environ=env, interactive=False
    )
    assert profile.api_key.get_secret_value() == "k-from-env"
    assert profile.password is not None and profile.password.get_secret_value() == "p-from-env"
    assert profile.webhook_key.get_secret_value() == "k-from-env"  # defaults to the api-key
    assert profile.receiver_port == 9100 and profile.token is None
    with pytest.raises(config.ConfigError, match=r"api_key refers to \$TEST_WEAVR_KEY, which is not set"):
        config.resolve(config.load(path).profiles["sandbox"], "sandbox", environ={}, interactive=False)


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, GOOD)
    monkeypatch.setenv("BULKDASH_BASE_URL", "http://127.0.0.1:8080/multi")
    monkeypatch.setenv("BULKDASH_RECEIVER_PORT", "9300")
    monkeypatch.setenv("BULKDASH_TOKEN", "tok-env")
    profile = config.load_profile("live", path, interactive=False)
    assert profile.base_url == "http://127.0.0.1:8080/multi" and profile.receiver_port == 9300
    assert profile.token is not None and profile.token.get_secret_value() == "tok-env"
    monkeypatch.setenv("BULKDASH_RECEIVER_PORT", "many")
    with pytest.raises(config.ConfigError, match="RECEIVER_PORT"):
        config.load_profile("live", path, interactive=False)


def test_missing_secret_is_asked_for_on_a_tty_else_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles.p]\nbase_url = "http://x/multi"\nemail = "a@b.example"\n')
    asked: list[str] = []

    def prompt(question: str) -> str:
        asked.append(question)
        return "typed-secret"

    profile = config.load_profile("p", path, prompt=prompt, interactive=True)
    assert asked == ["api_key for profile 'p': ", "password for profile 'p': "]
    assert profile.api_key.get_secret_value() == "typed-secret"
    with pytest.raises(config.ConfigError, match=r"no api_key.*run bulkdash in a terminal"):
        config.load_profile("p", path, interactive=False)


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles.p]\nbase_url = "http://x"\napi_key = = "k"\n')
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    assert str(path) in str(err.value) and "line 3" in str(err.value)


def test_wrong_type_names_the_field(tmp_path: Path) -> None:
    path = write(
        tmp_path, f'[profiles.p]\nbase_url = "http://x"\napi_key = "{LITERAL_KEY}"\nreceiver_port = "x"\n'
    )
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    assert str(path) in str(err.value) and "profiles.p.receiver_port" in str(err.value)
    assert "valid integer" in str(err.value)
    path = write(tmp_path, '[profiles.p]\nbase_url = "http://x"\napi_kye = "k"\n')
    with pytest.raises(config.ConfigError, match=r"profiles\.p\.api_kye: Extra inputs"):
        config.load(path)
    path = write(tmp_path, '[profiles.p]\nbase_url = "http://x"\napi_key = 12345\n')
    with pytest.raises(config.ConfigError) as typed:
        config.load(path)
    assert "profiles.p.api_key" in str(typed.value) and "12345" not in str(typed.value)


def test_unknown_profile_and_missing_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    with pytest.raises(config.ConfigError, match=r"no profile 'prod' \(profiles: live, sandbox\)"):
        config.load_profile("prod", path)
    with pytest.raises(config.ConfigError, match="no such config file"):
        config.load(tmp_path / "absent.toml")


def test_literal_secret_in_a_readable_file_warns(tmp_path: Path) -> None:
    warn = io.StringIO()
    config.load(write(tmp_path, GOOD, mode=0o644), warn=warn)
    assert "readable by others (mode 0644)" in warn.getvalue() and "chmod 600" in warn.getvalue()
    quiet = io.StringIO()
    config.load(write(tmp_path, GOOD, mode=0o600), warn=quiet)
    only_env = GOOD.split("[profiles.live]")[0]
    config.load(write(tmp_path, only_env, mode=0o644), warn=quiet)  # env: references are no secret
    assert quiet.getvalue() == ""


def test_secrets_never_in_repr(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    loaded = config.load(path)
    resolved = config.load_profile("live", path, interactive=False)
    for text in (repr(loaded), str(loaded), repr(resolved), str(resolved.api_key)):
        assert LITERAL_KEY not in text and LITERAL_PASSWORD not in text


def test_config_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sub" / "config.toml"
    assert main(["--config", str(path), "config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(path)
    assert main(["config", "--config", str(path), "init"]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "embedded" in text and "[profiles.sandbox]" in text and 'api_key = "env:' in text
    assert config.load(path).profiles["sandbox"].email == "you@example.com"
    assert main(["config", "--config", str(path), "init"]) == 2  # never overwrites silently
    assert "already exists" in capsys.readouterr().err
    write(tmp_path, GOOD)
    assert main(["config", "--config", str(tmp_path / "config.toml"), "show"]) == 0
    shown = capsys.readouterr().out
    assert 'api_key = "***"' in shown and 'api_key = "env:TEST_WEAVR_KEY"' in shown
    assert LITERAL_KEY not in shown and LITERAL_PASSWORD not in shown
    write(tmp_path, "[profiles.p\n")
    assert main(["config", "--config", str(tmp_path / "config.toml"), "show"]) == 2
    assert "invalid TOML" in capsys.readouterr().err


def test_config_init_where_nothing_can_be_written_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    # /proc takes no new files, even as root (a read-only directory did the same): it was mkstemp's traceback.
    assert main(["config", "--config", "/proc/bulkdash-config.toml", "init"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bulkdash config: /proc/bulkdash-config.toml: cannot write it: "), err
    assert len(err.strip().splitlines()) == 1


def test_profile_flag_builds_a_remote_connection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD)
    args = build_parser().parse_args(
        ["--config", str(path), "--profile", "live", "--email", "b@acme.example"]
    )
    profile = profile_from_args(args)
    assert profile.base_url == "https://api.weavr.io/multi" and profile.email == "b@acme.example"
    assert profile.api_key.get_secret_value() == LITERAL_KEY
    assert main(["--config", str(path), "--profile", "nope"]) == 2
    assert "no profile 'nope'" in capsys.readouterr().err


# --- edits that keep the file (the connect screen's `e`) ------------------------------------------------
COMMENTED = """\
# bulkdash profiles — kept by hand, please keep my notes.

[profiles.sandbox]   # Weavr's sandbox
base_url = "https://sandbox.weavr.io/multi"  # the sandbox's Multi API
api_key = "env:TEST_WEAVR_KEY"
email = "ops@acme.example"
password = "env:TEST_WEAVR_PASSWORD"
# the receiver listens on every interface: a tunnel forwards to it
receiver_host = "0.0.0.0"
receiver_port = 9100
# public_url = "https://old.ngrok.app"

# production: careful
[profiles.live]
receiver_host = "10.0.0.5"   # the VPN address
base_url = "https://api.weavr.io/multi"
api_key = "env:TEST_WEAVR_LIVE_KEY"
token = "env:TEST_WEAVR_TOKEN"
"""
LIVE = COMMENTED[COMMENTED.index("[profiles.live]") :]
# What the connect screen sends on save: every field of its form, changed or not.
FORM = {"base_url": "https://sandbox.weavr.io/multi", "receiver_port": "9100", "public_url": None}


def test_an_edit_changes_only_the_edited_field_and_keeps_comments_order_and_other_profiles(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, COMMENTED, mode=0o644)
    edited = config.edit_profile(
        path, "sandbox", "staging", {**FORM, "base_url": "http://127.0.0.1:8080/multi"}
    )
    text = path.read_text()
    expected = COMMENTED.replace("[profiles.sandbox]", "[profiles.staging]").replace(
        '"https://sandbox.weavr.io/multi"', '"http://127.0.0.1:8080/multi"'
    )
    assert text == expected
    assert text.endswith(LIVE)  # the profile not edited, byte for byte
    assert edited.receiver_host == "0.0.0.0" and edited.base_url == "http://127.0.0.1:8080/multi"
    loaded = config.load(path)
    assert list(loaded.profiles) == ["staging", "live"]
    assert loaded.profiles["live"].receiver_host == "10.0.0.5"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temp file left behind


def test_an_edit_that_changes_nothing_leaves_every_byte(tmp_path: Path) -> None:
    path = write(tmp_path, COMMENTED)
    config.edit_profile(path, "live", "live", {"base_url": "https://api.weavr.io/multi", "public_url": None})
    config.edit_profile(path, "sandbox", "sandbox", FORM)
    assert path.read_text() == COMMENTED


def test_a_public_url_is_added_after_the_last_key_and_removed_when_cleared(tmp_path: Path) -> None:
    path = write(tmp_path, COMMENTED)
    config.edit_profile(path, "sandbox", "sandbox", {**FORM, "public_url": "https://me.ngrok.app"})
    added = path.read_text()
    assert added == COMMENTED.replace(
        "receiver_port = 9100\n", 'receiver_port = 9100\npublic_url = "https://me.ngrok.app"\n'
    )
    tunnel = {**FORM, "public_url": "https://me.ngrok.app"}
    config.edit_profile(path, "sandbox", "sandbox", {**tunnel, "receiver_port": "9200"})
    assert path.read_text() == added.replace("receiver_port = 9100", "receiver_port = 9200")
    config.edit_profile(path, "sandbox", "sandbox", FORM)
    assert path.read_text() == COMMENTED


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"public_url": "99999"}, "public_url: must be an http:// or https:// URL"),
        ({"public_url": "ftp://files.example"}, "public_url: must be an http"),
        ({"base_url": "sandbox.weavr.io/multi"}, "base_url: must be an http"),
        ({"base_url": "https://"}, "base_url: must be an http"),
        ({"base_url": "https://host:99999/multi"}, "base_url: not a URL"),
        ({"base_url": "https://host name/multi"}, "base_url: must be an http"),
        ({"receiver_port": "70000"}, "receiver_port"),
        ({"api_key": "k"}, "secrets are not edited here"),
        ({"email": "x@y.example"}, "not editable here: email"),
    ],
)
def test_an_invalid_edit_is_refused_and_the_file_stays_as_it_was(
    tmp_path: Path, changes: dict[str, str], message: str
) -> None:
    path = write(tmp_path, COMMENTED)
    with pytest.raises(config.ConfigError, match=message):
        config.edit_profile(path, "sandbox", "sandbox", {**FORM, **changes})
    assert path.read_text() == COMMENTED


def test_renaming_onto_another_profile_or_to_a_bad_name_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, COMMENTED)
    with pytest.raises(config.ConfigError, match="exists already"):
        config.edit_profile(path, "sandbox", "live", FORM)
    with pytest.raises(config.ConfigError, match="letters, digits"):
        config.edit_profile(path, "sandbox", "my sandbox", FORM)
    assert path.read_text() == COMMENTED


def test_the_example_file_survives_an_edit_with_its_comments(tmp_path: Path) -> None:
    path = config.init(tmp_path / "config.toml")
    config.edit_profile(
        path, "sandbox", "sandbox", {"base_url": "http://127.0.0.1:8080/multi", "receiver_port": "9000"}
    )
    assert path.read_text() == config.EXAMPLE.replace(
        "https://sandbox.weavr.io/multi", "http://127.0.0.1:8080/multi"
    )
