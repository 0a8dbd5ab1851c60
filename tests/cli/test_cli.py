"""The kow command: help on every subcommand, where the warehouse lives, user errors without tracebacks."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from core.config import resolve_settings
from kow.cli import cli


def _commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path, subcommands of groups (kow cohort run) included."""
    paths = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths += _commands(command, (*prefix, name))
    return paths


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_every_command_has_help_text(path):
    command: click.Command = cli
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]

    result = CliRunner().invoke(cli, [*path, "--help"])

    assert result.exit_code == 0
    assert command.help, f"{' '.join(path)} has no docstring"
    first_words = " ".join(command.help.split()[:4])
    assert first_words in " ".join(result.output.split())


def test_warehouse_flag_wins_over_environment_and_default(tmp_path):
    env = {"KOW_WAREHOUSE": str(tmp_path / "env.duckdb")}

    assert resolve_settings(None, environ={}).warehouse == Path("warehouse/kow.duckdb").resolve()
    assert resolve_settings(None, environ=env).warehouse == tmp_path / "env.duckdb"
    assert resolve_settings(tmp_path / "flag.duckdb", environ=env).warehouse == tmp_path / "flag.duckdb"


def test_ingest_uses_kow_warehouse_from_the_environment(write_source, tmp_path):
    target = tmp_path / "from_env" / "kow.duckdb"

    result = CliRunner(env={"KOW_WAREHOUSE": str(target)}).invoke(cli, ["ingest", str(write_source())])

    assert result.exit_code == 0, result.output
    assert target.exists()
    assert "Loaded" in result.output


def test_ingest_of_a_missing_folder_is_a_usage_error_not_a_traceback(tmp_path):
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "nope")])

    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_generate_refuses_zero_patients(tmp_path):
    result = CliRunner().invoke(cli, ["generate", "--patients", "0", "--seed", "1", "--out", str(tmp_path)])

    assert result.exit_code == 2
    assert "--patients" in result.output
