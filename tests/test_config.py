"""Settings: defaults, the TOML file, SMTUI_ variables and --db, and where each came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smtui.cli import configured_app
from smtui.cli.common import Ctx
from smtui.config import ConfigError, load_settings
from smtui.records import DEFAULT_TIMEZONE
from smtui.tui.keys import HelpScreen
from tests.cli_helpers import run_cli


@pytest.fixture(autouse=True)
def _own_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the developer's own config and SMTUI_ settings out of these tests."""
    for name in ("SMTUI_DB", "SMTUI_TIMEZONE", "SMTUI_KEYMAP", "SMTUI_THEME"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "config.toml"
    monkeypatch.setenv("SMTUI_CONFIG", str(path))
    return path


def test_defaults_without_a_file() -> None:
    settings, sources = load_settings()
    assert settings.db is None and settings.timezone == DEFAULT_TIMEZONE
    assert settings.keymap == {} and settings.theme
    assert set(sources.values()) == {"default"}


def test_the_environment_beats_the_file_and_db_beats_both(
    _own_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _own_config.write_text(
        'db = "/srv/file.db"\ntimezone = "Pacific/Auckland"\ntheme = "nord"\n'
        '[keymap]\n"children.link" = "l,ctrl+l"\n'
    )
    monkeypatch.setenv("SMTUI_TIMEZONE", "Australia/Perth")
    settings, sources = load_settings()
    assert (settings.db, sources["db"]) == ("/srv/file.db", "file")
    assert (settings.timezone, sources["timezone"]) == ("Australia/Perth", "env")
    assert settings.keymap == {"children.link": "l,ctrl+l"} and sources["keymap"] == "file"
    monkeypatch.setenv("SMTUI_DB", "/srv/env.db")
    assert load_settings()[0].db == "/srv/env.db"
    settings, sources = load_settings(db="/srv/flag.db")
    assert (settings.db, sources["db"]) == ("/srv/flag.db", "--db")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("timezone = ", "not valid TOML"),
        ('timezone = "Mars/Base"', "unknown timezone"),
        ("keymap = 3", "keymap"),
        ('colour = "red"', "unknown setting 'colour'"),
    ],
)
def test_a_bad_file_is_one_error_naming_it(_own_config: Path, text: str, says: str) -> None:
    _own_config.write_text(text + "\n")
    with pytest.raises(ConfigError, match=says) as caught:
        load_settings()
    assert "\n" not in str(caught.value)


def test_config_show_says_where_each_value_came_from(_own_config: Path, tmp_path: Path) -> None:
    _own_config.write_text('timezone = "Pacific/Auckland"\n')
    db = tmp_path / "s.db"
    env = {"SMTUI_CONFIG": str(_own_config), "SMTUI_THEME": "nord"}
    shown = run_cli("config", "show", db=db, env=env)
    assert shown.returncode == 0, shown.stderr
    lines = {line.split()[0]: line for line in shown.stdout.splitlines()}
    assert lines["timezone"].endswith("Pacific/Auckland  (file)")
    assert lines["theme"].endswith("nord  (env)")
    assert lines["db"].endswith(f"{db}  (env)")  # run_cli passes the store as SMTUI_DB
    flag = run_cli("--db", str(tmp_path / "other.db"), "config", "show", "--json", db=db, env=env)
    data = json.loads(flag.stdout)["settings"]
    assert data["db"] == {"value": str(tmp_path / "other.db"), "source": "--db"}
    assert data["keymap"] == {"value": {}, "source": "default"}


def test_bad_config_is_one_line_and_exit_1(_own_config: Path, tmp_path: Path) -> None:
    _own_config.write_text("theme = [\n")
    result = run_cli("service", "list", db=tmp_path / "s.db",
                     env={"SMTUI_CONFIG": str(_own_config)})  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith(f"smtui: {_own_config}: not valid TOML")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_new_service_gets_the_configured_time_zone(_own_config: Path, tmp_path: Path) -> None:
    _own_config.write_text('timezone = "Pacific/Auckland"\n')
    db = tmp_path / "s.db"
    env = {"SMTUI_CONFIG": str(_own_config)}
    added = run_cli("service", "add", "kowhai", "--ccms-url", "http://127.0.0.1:9/c",
                    "--portfolio-url", "http://127.0.0.1:9/p", "--ccms-token-env", "A",
                    "--portfolio-token-env", "B", db=db, env=env)  # fmt: skip
    assert added.returncode == 0, added.stderr
    shown = run_cli("service", "show", "kowhai", "--json", db=db, env=env)
    assert json.loads(shown.stdout)["settings"]["timezone"] == "Pacific/Auckland"


async def test_the_app_gets_the_configured_keymap_and_theme(
    _own_config: Path, tmp_path: Path
) -> None:
    """`smtui` opens the app configured_app makes: f2 rebound to help opens it, and the theme
    is the file's."""
    _own_config.write_text('theme = "nord"\n[keymap]\n"app.help" = "f2"\n')
    app = configured_app(Ctx(str(tmp_path / "s.db")))
    async with app.run_test() as pilot:
        assert app.theme == "nord"
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


def test_an_unknown_theme_is_one_line_naming_the_file(
    _own_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _own_config.write_text('theme = "no-such-theme"\n')
    with pytest.raises(SystemExit) as exited:
        configured_app(Ctx(str(tmp_path / "s.db")))
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"smtui: {_own_config}: theme 'no-such-theme' is not a Textual theme")
    assert err.count("\n") == 1 and "nord" in err
