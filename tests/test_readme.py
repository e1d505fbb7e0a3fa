"""The README and the docs are checked like code: each of their commands parses with the command's
own flags and finds the data it names as written, the README's first two lines are the
install-and-run commands, its links lead to files that exist, and the parameter counts in the
tables are the registered models'."""

import re
import shlex
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

import train
import zoo
from zoo import evaluate, export, predict, tune
from zoo.data import own_data

README = (REPO_ROOT / "README.md").read_text()
DOC_PAGES = sorted((REPO_ROOT / "docs").rglob("*.md"))
DOCS = "\n".join([README] + [page.read_text() for page in DOC_PAGES])  # every page a reader runs commands from
COMMAND_LINE_MODULES = {"zoo.evaluate": evaluate, "zoo.export": export, "zoo.predict": predict, "zoo.tune": tune}
USERS_OWN = ("path/to/", "reviews.csv", "other_reviews.csv", "digit.png")  # the reader's files, not ours


def readme_commands():
    """Every `python ...` command in the README's and the docs' bash blocks, continuation lines
    joined, environment assignments and comments dropped, as argument lists."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", DOCS, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if not re.search(r"\bpython3? ", line.split("#")[0]):
                continue  # curl and docker lines, some spanning lines in one quote
            words = shlex.split(line, comments=True)
            while words and re.match(r"^[A-Z_]+=", words[0]):
                words = words[1:]
            if words[:1] in (["python"], ["python3"]):
                commands.append(words[1:])
    return commands


def ids(commands):
    return [" ".join(command)[:60] for command in commands]


TRAIN_COMMANDS = [command[1:] for command in readme_commands() if command[0] == "train.py"]
MODULE_COMMANDS = [command[1:] for command in readme_commands() if command[:2] == ["-m", command[1]]
                   and command[1] in (*COMMAND_LINE_MODULES, "zoo.generate")]


def test_the_readme_has_commands_of_each_kind():
    assert len(TRAIN_COMMANDS) >= 10 and {command[0] for command in MODULE_COMMANDS} == {
        "zoo.evaluate", "zoo.export", "zoo.predict", "zoo.generate", "zoo.tune"}


def check_tfds_data(dataset, data_dir, download):
    """A TFDS dataset must be prepared in the command's --data-dir, or be fetched (--download)."""
    if download:
        return
    assert data_dir, f"{dataset}: no --data-dir, and TFDS's default dir holds nothing on a fresh machine"
    assert (REPO_ROOT / data_dir / dataset).is_dir(), f"{dataset} is not prepared in {data_dir}"


@pytest.mark.parametrize("argv", TRAIN_COMMANDS, ids=ids(TRAIN_COMMANDS))
def test_each_train_command_parses_and_finds_its_data_as_written(argv):
    args = train.parse_args(argv)
    if args.list is not None:
        return
    spec = zoo.get_model_spec(args.model)
    spec.resolve_args(**dict(args.model_arg))
    for source in (args.init_from, args.teacher):
        made_before = source and source.startswith(("runs/", "saved_models/"))  # by the commands before it
        if source and not made_before and source not in zoo.list_presets():
            assert (REPO_ROOT / source).exists(), source
    dataset = args.dataset or spec.dataset
    if dataset.startswith(USERS_OWN):
        return
    if own_data.is_path(dataset):
        assert (REPO_ROOT / dataset).exists(), dataset
    elif not (args.data_dir or "").startswith("/"):  # an absolute one is the reader's: a cluster's shared mount
        check_tfds_data(dataset, args.data_dir, args.download)


@pytest.mark.parametrize("argv", MODULE_COMMANDS, ids=ids(MODULE_COMMANDS))
def test_each_zoo_command_parses_and_finds_its_data_as_written(argv):
    module, argv = argv[0], argv[1:]
    if module == "zoo.generate":  # its flags parse in main, which runs the model
        assert "--model-dir" in argv and "--prompt" in argv
        return
    args = COMMAND_LINE_MODULES[module].parse_args(argv)
    if module == "zoo.evaluate" and not (args.dataset and own_data.is_path(args.dataset)):
        check_tfds_data("mnist" if "mnist" in args.model_dir else "imdb_reviews", args.data_dir, download=False)
    if module == "zoo.tune":
        spec = zoo.get_model_spec(args.model)
        assert spec.search_space, f"{args.model} has no search space"
        check_tfds_data(args.dataset or spec.dataset, args.data_dir, args.download)


def test_readme_table_lists_every_registered_model():
    listed = re.findall(r"^\| `([a-z0-9_]+)` \| (?:image|text) \|", README, flags=re.MULTILINE)
    assert listed == zoo.list_models()


def test_the_first_lines_install_and_run_the_main_job_and_the_tests():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    main_job, tests = [line for line in first_block.splitlines() if not line.startswith("#")]
    assert main_job.startswith("python3 -m venv .venv && ") and "pip install -e ." in main_job
    assert "python train.py --model mnist_cnn --data-dir ../shared/tensorflow_datasets" in main_job
    assert tests.startswith("python3 -m venv .venv && ") and tests.endswith("&& pytest")
    assert len(re.findall(r"^python3 -m venv .*$", README, flags=re.MULTILINE)) == 2
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "grep -m1 -E '^python3 -m venv .*pytest' README.md" in ci


def test_the_parameter_counts_in_the_readme_tables_are_the_registered_models():
    rows = re.findall(r"^\| `(\w+)` \| zoo[^|]*\|.*\| ([\d,]+) \|$", DOCS, re.M)
    assert len(rows) >= 6
    counts = {row["name"]: row["parameters"] for row in zoo.registry.catalog()}
    for name, parameters in rows:
        assert int(parameters.replace(",", "")) == counts[name], f"the README's {name} row: re-run its benchmark"


def test_the_readmes_links_lead_to_files_that_exist():
    links = [link for link in re.findall(r"\]\(([^)#]+)[^)]*\)", README) if not link.startswith("http")]
    assert len(links) >= 15
    missing = [link for link in links if not (REPO_ROOT / link).exists()]
    assert missing == []


def test_the_readme_is_short_and_the_guides_hold_the_rest():
    assert len(README.splitlines()) <= 200
    assert len(DOC_PAGES) >= 15 and all(page.read_text().startswith("# ") for page in DOC_PAGES)


@pytest.mark.parametrize("module", ["zoo.export", "zoo.evaluate", "zoo.predict", "zoo.generate", "zoo.tune"])
def test_command_line_help_answers_without_importing_tensorflow(module):
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", module, "--help"], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0 and "usage:" in result.stdout
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert not imported & {"tensorflow", "keras"}, "help loaded TensorFlow"


@pytest.mark.slow
def test_the_use_a_trained_model_section_runs_as_written(real_data_dir, tmp_path):
    """Its Python and its predict, generate and export commands, run from a fresh folder with the
    reader's digit.png, from the shipped presets alone."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    section = README.split("## Use a trained model")[1].split("\n## ")[0]
    [image] = [x for x, _ in tfds.load("mnist", split="test[:1]", data_dir=real_data_dir, as_supervised=True)]
    (tmp_path / "digit.png").write_bytes(tf.io.encode_png(image).numpy())
    python = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    commands = [["-c", python + "\nassert model.predict(__import__('numpy').zeros((1, 28, 28, 1), 'uint8')).shape == (1, 10)"]]
    for line in re.search(r"```bash\n(.*?)```", section, re.S).group(1).splitlines():
        words = shlex.split(line, comments=True)
        if words[1:3] in (["-m", "zoo.predict"], ["-m", "zoo.generate"], ["-m", "zoo.export"]):
            commands.append(words[1:])
    assert len(commands) == 5
    for command in commands:
        result = subprocess.run([sys.executable, *command], cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() or command[0] == "-c"
    assert (tmp_path / "saved_models" / "ngram_text" / "1" / "saved_model.pb").exists()
