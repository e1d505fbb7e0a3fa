import re

import zoo
from conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


def test_readme_table_lists_every_registered_model():
    listed = re.findall(r"^\| `([a-z0-9_]+)` \| (?:image|text) \|", README, flags=re.MULTILINE)
    assert listed == zoo.list_models()


def test_ci_runs_the_readme_test_command():
    ci_script = (REPO_ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"^python3 -m venv .*$", README, flags=re.MULTILINE)
    assert len(commands) == 2, "the README opens with an install-and-run and an install-and-test command"
    assert commands[1].endswith("pytest") and "grep -m1 -E '^python3 -m venv .*pytest' README.md" in ci_script
