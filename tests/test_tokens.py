"""Reading API tokens: the user gets one clear line, and the token never appears in it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smtui.tokens import TokenError, TokenSource, read_token

SECRET = "s3cr3t-t0ken-value"


def private_file(tmp_path: Path, content: str, mode: int = 0o600) -> Path:
    path = tmp_path / "token"
    path.write_text(content)
    path.chmod(mode)
    return path


def error_of(source: TokenSource, label: str = "CCMS") -> str:
    with pytest.raises(TokenError) as info:
        read_token(source, label)
    return str(info.value)


def test_token_from_env_is_stripped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTUI_CCMS_TOKEN", f"  {SECRET}\n")
    assert read_token(TokenSource.from_env("SMTUI_CCMS_TOKEN"), "CCMS") == SECRET


def test_unset_env_var_says_how_to_fix_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMTUI_CCMS_TOKEN", raising=False)
    assert error_of(TokenSource.from_env("SMTUI_CCMS_TOKEN")) == (
        "SMTUI_CCMS_TOKEN is not set: export it or use --ccms-token-file"
    )
    monkeypatch.delenv("SMTUI_PORTFOLIO_TOKEN", raising=False)
    assert "--portfolio-token-file" in error_of(
        TokenSource.from_env("SMTUI_PORTFOLIO_TOKEN"), "portfolio"
    )


def test_empty_env_var_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTUI_CCMS_TOKEN", "  \n")
    assert "SMTUI_CCMS_TOKEN is empty" in error_of(TokenSource.from_env("SMTUI_CCMS_TOKEN"))


def test_private_token_file_is_read(tmp_path: Path) -> None:
    path = private_file(tmp_path, SECRET + "\n")
    assert read_token(TokenSource.from_file(path), "CCMS") == SECRET


def test_missing_token_file_is_named(tmp_path: Path) -> None:
    message = error_of(TokenSource.from_file(tmp_path / "absent"))
    assert str(tmp_path / "absent") in message and "does not exist" in message


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_token_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = private_file(tmp_path, SECRET, mode)
    message = error_of(TokenSource.from_file(path))
    assert message == (
        f"token file {path} is readable by others (mode {mode:04o}): run chmod 600 {path}"
    )
    assert SECRET not in message


def test_empty_token_file_is_refused(tmp_path: Path) -> None:
    path = private_file(tmp_path, "\n\n")
    assert error_of(TokenSource.from_file(path)) == f"CCMS token file {path} is empty"


def test_directory_is_not_a_token_file(tmp_path: Path) -> None:
    assert "not a regular file" in error_of(TokenSource.from_file(tmp_path))


def test_source_must_be_exactly_one_of_env_or_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert error_of(TokenSource()) == (
        "no CCMS token configured: use --ccms-token-env or --ccms-token-file"
    )
    monkeypatch.setenv("SMTUI_CCMS_TOKEN", SECRET)
    path = private_file(tmp_path, SECRET)
    message = error_of(TokenSource("SMTUI_CCMS_TOKEN", str(path)))
    assert "both" in message and SECRET not in message


def test_settings_values_build_a_source(tmp_path: Path) -> None:
    # Service settings keep the file as a string; the source accepts it as stored.
    path = private_file(tmp_path, SECRET)
    assert read_token(TokenSource(None, str(path)), "portfolio") == SECRET
    assert TokenSource.from_env("SMTUI_CCMS_TOKEN").describe() == "$SMTUI_CCMS_TOKEN"


def private_bytes(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "token"
    path.write_bytes(content)
    path.chmod(0o600)
    return path


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (f"{SECRET}\nsecond-line", "holds more than one line (a line break at character 19)"),
        (f"{SECRET}\r\nsecond-line", "holds more than one line (a line break at character 19)"),
        (f"{SECRET}\rsecond-line", "holds more than one line"),
        (f"{SECRET}-é", "holds a non-ASCII character (at character 20)"),
        (f"{SECRET}\x07beep", "holds a control character (at character 19)"),
        (f"{SECRET}\tsecond-half", "holds a control character"),
    ],
    ids=["LF", "CRLF", "CR", "non-ASCII", "BEL", "tab"],
)
def test_a_token_file_must_hold_one_line_of_printable_ascii(
    tmp_path: Path, content: str, problem: str
) -> None:
    """It goes into an HTTP header: anything else used to fail inside httpx with an error that
    quoted the whole header, token included."""
    path = private_bytes(tmp_path, content.encode())
    message = error_of(TokenSource.from_file(path))
    assert message.startswith(f"CCMS token file {path} {problem}")
    assert message.endswith(": it must hold the token alone, on one line")
    assert SECRET not in message and "second" not in message and "beep" not in message


@pytest.mark.parametrize("ending", ["\n", "\r\n", "  \n\n", ""])
def test_a_trailing_line_ending_is_fine(tmp_path: Path, ending: str) -> None:
    path = private_bytes(tmp_path, (SECRET + ending).encode())
    assert read_token(TokenSource.from_file(path), "portfolio") == SECRET


def test_a_byte_order_mark_or_a_huge_file_is_refused_without_showing_it(tmp_path: Path) -> None:
    path = private_bytes(tmp_path, b"\xef\xbb\xbf" + SECRET.encode())
    message = error_of(TokenSource.from_file(path))
    assert "byte-order mark" in message and SECRET not in message
    path = private_bytes(tmp_path, SECRET.encode() * 2000)
    message = error_of(TokenSource.from_file(path))
    assert message == (
        f"CCMS token file {path} is larger than 16 KiB: it must hold the token alone, on one line"
    )


def test_a_token_variable_must_hold_one_line_of_printable_ascii(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMTUI_CCMS_TOKEN", f"{SECRET}\nsecond-line")
    message = error_of(TokenSource.from_env("SMTUI_CCMS_TOKEN"))
    assert message == (
        "SMTUI_CCMS_TOKEN holds more than one line (a line break at character 19):"
        " set it to the CCMS API token alone"
    )
    monkeypatch.setenv("SMTUI_CCMS_TOKEN", f"{SECRET}ü")
    message = error_of(TokenSource.from_env("SMTUI_CCMS_TOKEN"))
    assert "non-ASCII" in message and SECRET not in message
