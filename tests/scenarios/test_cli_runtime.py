"""The command contract shared by every subcommand: user errors are one line and exit 2, bugs keep their traceback."""
import argparse

import pytest

from scenarios.cli_runtime import EXIT_OK, EXIT_USAGE, guard
from scenarios.cli_types import names


class _UserError(ValueError):
    pass


def test_guard_passes_the_commands_exit_code_through():
    assert guard(lambda: EXIT_OK, (_UserError,)) == EXIT_OK
    assert guard(lambda: 1, (_UserError,)) == 1


def test_guard_turns_a_user_error_into_one_line_and_exit_2(capsys):
    def work():
        raise _UserError("run/cycles.parquet: row 7: no 'end_time'")

    assert guard(work, (_UserError,)) == EXIT_USAGE
    assert capsys.readouterr().err == "twinloop: run/cycles.parquet: row 7: no 'end_time'\n"


def test_guard_lets_a_bug_keep_its_traceback():
    def work():
        raise KeyError("a bug, not bad input")

    with pytest.raises(KeyError):
        guard(work, (_UserError,))


def test_names_splits_on_commas_and_drops_blanks():
    assert names("melt_temp_C, hold_pressure_bar,,cycle_time_s ") == [
        "melt_temp_C", "hold_pressure_bar", "cycle_time_s"]


@pytest.mark.parametrize("text", ["", ",", " , ,"])
def test_names_rejects_text_without_a_name(text):
    with pytest.raises(argparse.ArgumentTypeError, match="comma-separated names"):
        names(text)
