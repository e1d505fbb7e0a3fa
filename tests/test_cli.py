"""What every command line shares: failures as one line, Ctrl-C as 130, and a quiet start."""

import os
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

from zoo import cli
from zoo.errors import UserError


@pytest.mark.parametrize("raised, status, line", [
    (UserError("no such thing: pass another"), 2, "zoo.thing: error: no such thing: pass another\n"),
    (KeyboardInterrupt(), 130, "\ninterrupted: rerun it\n"),
])
def test_a_command_fails_in_one_line_with_its_status(capsys, raised, status, line):
    @cli.command("zoo.thing", interrupted="interrupted: rerun it")
    def main():
        raise raised

    assert main() == status and capsys.readouterr().err == line


def test_a_command_that_returns_nothing_exits_0():
    assert cli.command("zoo.thing")(lambda: None)() == 0


@pytest.mark.parametrize("log_level, quiet", [(None, True), ("2", True), ("0", False)])
def test_commands_start_without_tensorflows_log_unless_asked(tmp_path, log_level, quiet):
    env = {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}
    env.update({"TF_CPP_MIN_LOG_LEVEL": log_level} if log_level else {})
    result = subprocess.run([sys.executable, "-m", "zoo.predict", "mnist_cnn_fast", str(tmp_path / "missing.png")],
                            capture_output=True, text=True, cwd=REPO_ROOT, env=env)
    assert result.returncode == 2 and result.stdout == ""
    ours = f"zoo.predict: error: {tmp_path / 'missing.png'}: no such file\n"
    assert (result.stderr == ours) if quiet else (result.stderr.endswith(ours) and "I0000" in result.stderr)
