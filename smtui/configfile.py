"""Where the config file is and what it says about the database, without pydantic.

``smtui.config`` validates the whole file with pydantic-settings; this module is the part the
hourly cron run needs before it knows whether there is any work (``smtui sync --all`` with
nothing due must not pay a fifth of a second for pydantic). ``smtui.config`` builds on it, so
the file's location and the order --db, environment, file is written once.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

ENV_PREFIX = "SMTUI_"
CONFIG_ENV = "SMTUI_CONFIG"


class ConfigError(Exception):
    """The config file or an SMTUI_ variable is unusable; the message is one line."""


def config_path() -> Path:
    """Where the config file is looked for: $SMTUI_CONFIG, else the user config dir."""
    given = os.environ.get(CONFIG_ENV)
    return Path(given).expanduser() if given else Path(user_config_dir("smtui")) / "config.toml"


def env_value_set(name: str) -> bool:
    """Whether SMTUI_<NAME> is set to something (it then wins over the file)."""
    return bool(os.environ.get(f"{ENV_PREFIX}{name.upper()}"))


def read_toml(path: Path) -> dict[str, Any]:
    """The config file's table, {} when there is none; ConfigError when it is not TOML."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None


def database_setting(flag: str | None) -> str | None:
    """The database the settings name (--db, then SMTUI_DB, then the file; None: the default
    file), as ``smtui.config.load_settings`` resolves it. ConfigError for an unusable file."""
    if flag:
        return flag
    if env_value_set("db"):
        return os.environ[f"{ENV_PREFIX}DB"]
    value = read_toml(config_path()).get("db")
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{config_path()}: db: not a string")
    return value
