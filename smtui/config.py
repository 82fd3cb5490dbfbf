"""Settings: defaults, then a TOML file, then ``SMTUI_`` environment variables, then --db.

One place reads them, so the CLI and the TUI agree on where the store is and which time zone a
new service gets. The file is ``config.toml`` in the platformdirs config dir
(``~/.config/smtui/config.toml`` on Linux); ``SMTUI_CONFIG`` points elsewhere. A missing file is
fine; a file that is not TOML, or a value of the wrong type, is a :class:`ConfigError` (one line,
and the CLI exits 1) rather than a traceback.

Per-service settings (interval, thresholds, URLs) live in the store, not here: these are the
settings of the installation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from smtui.configfile import (
    ENV_PREFIX,
    ConfigError,
    config_path,
    env_value_set,
    read_toml,
)
from smtui.records import DEFAULT_TIMEZONE

__all__ = ["ConfigError", "Settings", "Source", "config_path", "load_settings", "read_file"]

Source = Literal["default", "file", "env", "--db"]


class Settings(BaseSettings):
    """The installation's settings; every field can be set in the file or as SMTUI_<NAME>."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    #: a SQLite path or SQLAlchemy URL; None: ``smtui.db`` in the user data dir
    db: str | None = None
    #: the time zone of a service added without --timezone
    timezone: str = DEFAULT_TIMEZONE
    #: binding id -> keys (e.g. ``"children.link" = "l,ctrl+l"``), for the TUI to apply
    keymap: dict[str, str] = Field(default_factory=dict)
    #: a Textual theme name
    theme: str = "textual-dark"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}: use an IANA name") from None
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """--db beats the environment, which beats the file (read by :func:`load_settings`,
        passed in as init values below the explicit ones)."""
        return (init_settings, env_settings)


def read_file(path: Path) -> dict[str, Any]:
    """The config file's table, {} when there is none; ConfigError when it is not TOML or
    names a setting smtui does not have."""
    data = read_toml(path)
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        known = ", ".join(Settings.model_fields)
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r} (known: {known})")
    return data


def load_settings(db: str | None = None) -> tuple[Settings, dict[str, Source]]:
    """The settings and, per field, where its value came from. ``db`` is the CLI's --db."""
    path = config_path()
    from_file = read_file(path)
    # the environment wins over the file: drop file values the environment sets
    values = {k: v for k, v in from_file.items() if not env_value_set(k)}
    if db:
        values["db"] = db
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, path)) from None
    except SettingsError as exc:  # an SMTUI_ variable that should hold JSON (the keymap)
        raise ConfigError(
            f"{exc} (a table such as the keymap is JSON in the environment)"
        ) from None
    sources: dict[str, Source] = {}
    for name in Settings.model_fields:
        if name == "db" and db:
            sources[name] = "--db"
        elif env_value_set(name):
            sources[name] = "env"
        elif name in from_file:
            sources[name] = "file"
        else:
            sources[name] = "default"
    return settings, sources


def _one_line(exc: ValidationError, path: Path) -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "settings"
    name = str(err["loc"][0]) if err["loc"] else ""
    where = f"{ENV_PREFIX}{name.upper()}" if name and env_value_set(name) else str(path)
    return f"{where}: {field}: {err['msg']}"
