"""Where an API token comes from: an environment variable or a file only its owner can read.

Only the source is ever stored or shown; the token itself is returned to the caller and appears
in no message, repr or log line. A token must be one line of printable ASCII, because it goes
into an HTTP header: anything else is refused here, in words that never quote it, rather than
failing later inside httpx with an error that prints the whole header.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from smtui.records import token_problem

# A bearer token is at most a few kilobytes; a bigger file is the wrong file, not a token.
MAX_TOKEN_FILE_BYTES = 16 * 1024


class TokenError(Exception):
    """A token could not be read; the message is one line for the user, without the token."""


@dataclass(frozen=True, slots=True)
class TokenSource:
    """``env`` (a variable name) or ``file`` (a path), as a service's settings name them.

    Exactly one should be set; that is checked when reading, so a service saved with neither (or
    both) gets a one-line TokenError telling the user what to fix rather than a crash.
    """

    env: str | None = None
    file: str | Path | None = None

    @classmethod
    def from_env(cls, name: str) -> TokenSource:
        return cls(env=name)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> TokenSource:
        return cls(file=Path(path).expanduser())

    def describe(self) -> str:
        return f"${self.env}" if self.env is not None else str(self.file)


def read_token(source: TokenSource, system_label: str) -> str:
    """Read the token for one system ("CCMS", "portfolio"), stripped of surrounding whitespace.

    A file must be private to its owner (on POSIX): a token readable by others is refused rather
    than used, since it grants access to children's records. What is left after stripping must
    be one line of printable ASCII (see ``token_problem``).
    """
    if source.env is not None and source.file is not None:
        raise TokenError(
            f"{system_label} token is set both as ${source.env} and as file {source.file}: keep one"
        )
    if source.env is not None:
        return _from_env(source.env, system_label)
    if source.file is not None:
        return _from_file(Path(source.file).expanduser(), system_label)
    flag = _flag(system_label)
    raise TokenError(
        f"no {system_label} token configured: use {flag.replace('-file', '-env')} or {flag}"
    )


def _flag(system_label: str) -> str:
    return "--" + system_label.strip().lower().replace(" ", "-") + "-token-file"


def _from_env(name: str, system_label: str) -> str:
    value = os.environ.get(name)
    if value is None:
        raise TokenError(f"{name} is not set: export it or use {_flag(system_label)}")
    token = value.strip()
    if not token:
        raise TokenError(f"{name} is empty: set it to the {system_label} API token")
    problem = token_problem(token)
    if problem:
        raise TokenError(f"{name} {problem}: set it to the {system_label} API token alone")
    return token


def _from_file(path: Path, system_label: str) -> str:
    try:
        # Check the mode of the file actually opened, not of whatever the path named a moment ago.
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise TokenError(
            f"{system_label} token file {path} does not exist: create it (mode 600) or fix the path"
        ) from None
    except OSError as exc:
        raise TokenError(f"cannot read {system_label} token file {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TokenError(f"{system_label} token file {path} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if os.name == "posix" and mode & 0o077:
            how = "readable" if mode & 0o044 else "accessible"
            raise TokenError(
                f"token file {path} is {how} by others (mode {mode:04o}): run chmod 600 {path}"
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_TOKEN_FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_TOKEN_FILE_BYTES:
        raise TokenError(
            f"{system_label} token file {path} is larger than {MAX_TOKEN_FILE_BYTES // 1024} KiB:"
            " it must hold the token alone, on one line"
        )
    if data.startswith(b"\xef\xbb\xbf"):
        raise TokenError(
            f"{system_label} token file {path} starts with a byte-order mark: save it as plain"
            " ASCII text"
        )
    try:
        token = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise TokenError(f"{system_label} token file {path} is not UTF-8 text") from None
    if not token:
        raise TokenError(f"{system_label} token file {path} is empty")
    problem = token_problem(token)
    if problem:
        raise TokenError(
            f"{system_label} token file {path} {problem}: it must hold the token alone, on one line"
        )
    return token
