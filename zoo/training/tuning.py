"""Hyperparameter search (`python -m zoo.tune`): KerasTuner's oracles pick each trial's values
from the model's registered search space, and each trial is an ordinary `zoo.training.train` run
in its own model dir, judged on the validation split alone: the test split is never read.

A tune dir (default tuning/MODEL) is KerasTuner's project folder: oracle.json, tuner0.json and
a trial_ID/ folder per trial holding KerasTuner's trial.json and the trial's run dir, run/.
Rerunning the same command resumes the search: finished trials are kept, and an interrupted one
is run again by KerasTuner, resuming from its run's backup. At the end the search writes
results.csv and results.png (every trial), and best.json: the best trial's values, validation
metric, the train.py command that reproduces it, and its test metrics, evaluated once, after the
search, on the whole test split.
"""

import csv
import dataclasses
import json
import math
import pathlib

import keras_tuner

from zoo import cli, evaluation, flags, report, search_space, training
from zoo.config import TUNERS, default_tune_dir
from zoo.errors import UserError
from zoo.registry import get_model_spec, list_models
from zoo.store import outputs, records
from zoo.tasks import task_for

SEARCH_FILE = "search.json"  # what the search was asked, so that only the same search resumes
RUN_DIR = "run"  # a trial's run dir, in KerasTuner's trial folder
LOCK_FILE = ".lock"
TUNED_RUN_DIR = "runs/{model}-tuned"  # where the best trial's train.py command writes


class SearchError(keras_tuner.errors.FatalError, UserError):
    """A trial's `UserError`: bad input that every trial would meet, so the search stops."""


def search(config):
    """Runs (or resumes) the search `config` asks for; returns best.json's contents."""
    spec, task, space = check_search(config)
    tune_dir = pathlib.Path(config.tune_dir or default_tune_dir(spec.name))
    with outputs.held(tune_dir, "--tune-dir", LOCK_FILE, "search"):
        check_tune_dir(tune_dir, search_record(config, space))
        tuner = ZooTuner(
            make_oracle(config, task.monitor, space, config.base.epochs or spec.epochs),
            config.base,
            config.budget_minutes,
            directory=str(tune_dir.parent),
            project_name=tune_dir.name,
        )
        try:
            tuner.search()
        except RuntimeError as error:  # KerasTuner's, after too many failed trials in a row
            raise UserError(f"the search stopped: {last_line(error)}") from None
        rows = trial_rows(tuner, space)
        write_results(rows, tune_dir, task.monitor)
        return write_best(tuner, rows, tune_dir)


def check_search(config):
    """(spec, task, search space) of `config`, each flag checked before any data is read."""
    spec = get_model_spec(config.base.model)
    task = task_for(spec, config.base)
    if spec.task != "classification":
        raise UserError(f"zoo.tune searches classifiers by validation accuracy; {spec.name} is trained as {spec.task}")
    if not spec.search_space:
        searchable = [name for name in list_models() if get_model_spec(name).search_space]
        raise UserError(f"{spec.name} declares no search space (search_space= in its registration); "
                        f"these do: {', '.join(searchable)}")
    if config.tuner not in TUNERS:
        raise UserError(f"--tuner must be one of {', '.join(TUNERS)}, got {config.tuner!r}")
    if config.max_trials is not None and config.max_trials < 1:
        raise UserError(f"--max-trials must be at least 1, got {config.max_trials}")
    if config.budget_minutes is not None and not (math.isfinite(config.budget_minutes) and config.budget_minutes > 0):
        raise UserError(f"--budget-minutes must be a positive number, got {config.budget_minutes}")
    space = search_space.narrowed({**spec.search_space, **task.search_space}, spec.name, config.hp)
    given = [name for name in space if name in config.base.model_args or getattr(config.base, name, None) is not None]
    if given:
        raise UserError(f"{', '.join(given)}: searched, so not a flag or --model-arg of the search; "
                        f"fix a dimension with --hp NAME=VALUE")
    if all(isinstance(dimension, search_space.Fixed) for dimension in space.values()):
        raise UserError("every dimension is fixed by --hp: nothing is left to search; train it with train.py")
    for name, dimension in space.items():  # each value a trial could take, as training checks it
        for value in dimension.values():
            candidate = trial_config(config.base, {name: value}, None)
            try:
                training.run_settings(spec, candidate, task_for(spec, candidate))
            except UserError as error:
                raise UserError(f"search space {name}={value!r}: {error}") from None
    return spec, task, space


def trial_config(base, values, run_dir):
    """The `TrainConfig` of a trial: `base` with the trial's `values` (training settings and
    builder arguments; Hyperband's epochs), writing `run_dir`, never reading the test split."""
    settings = {name: value for name, value in values.items() if name in search_space.TRAINING_SETTINGS}
    model_args = {name: value for name, value in values.items()
                  if name not in settings and not name.startswith("tuner/")}
    return dataclasses.replace(
        base,
        **settings,
        model_args={**base.model_args, **model_args},
        epochs=values.get("tuner/epochs", base.epochs),
        model_dir=run_dir and str(run_dir),
        evaluate_test=False,
    )


def make_oracle(config, monitor, space, max_epochs):
    """KerasTuner's oracle of `config.tuner`, searching `space` for the highest `monitor`."""
    hyperparameters = keras_tuner.HyperParameters()
    for name, dimension in space.items():
        dimension.define(hyperparameters, name)
    common = dict(objective=keras_tuner.Objective(monitor, "max"), hyperparameters=hyperparameters,
                  allow_new_entries=False, tune_new_entries=False, seed=config.base.seed)
    if config.tuner == "hyperband":  # trials of its brackets' epochs, at most max_trials of them
        oracle = keras_tuner.oracles.HyperbandOracle(max_epochs=max_epochs, **common)
        oracle.max_trials = config.max_trials
        return oracle
    oracle_class = {"random": keras_tuner.oracles.RandomSearchOracle,
                    "bayesian": keras_tuner.oracles.BayesianOptimizationOracle}[config.tuner]
    return oracle_class(max_trials=config.max_trials, **common)


class ZooTuner(keras_tuner.Tuner):
    """KerasTuner's tuner, each trial a `zoo.training.train` run of `base_config` with the
    trial's values; no trial starts once `budget_minutes` of trials have run."""

    def __init__(self, oracle, base_config, budget_minutes=None, **kwargs):
        super().__init__(oracle, **kwargs)
        self.base_config = base_config
        self.budget_seconds = budget_minutes and budget_minutes * 60

    def run_dir(self, trial_id):
        return pathlib.Path(self.get_trial_dir(trial_id)) / RUN_DIR

    def run_trial(self, trial):
        """The trial's validation metric; a trial whose run finished before the search was
        killed is read back, not trained again."""
        run_dir = self.run_dir(trial.trial_id)
        finished = (run_dir / records.SUMMARY).exists()
        summary = records.RunSummary.read(run_dir / records.SUMMARY) if finished else train_trial(
            trial_config(self.base_config, trial.hyperparameters.values, run_dir)
        )
        metric = self.oracle.objective.name
        return {metric: summary.validation_metrics[metric.removeprefix("val_")]}

    def spent_seconds(self):
        """The wall time of the trials run so far, interrupted ones included."""
        runs = (read_json(self.run_dir(trial_id) / training.RUN_FILE) for trial_id in self.oracle.trials)
        return sum(run["wall_time_seconds"] for run in runs if run)

    def pre_create_trial(self):
        if self.budget_seconds and self.spent_seconds() >= self.budget_seconds:
            print(f"The budget of {self.budget_seconds / 60:g} minutes is spent: no more trials")
            self.oracle.max_trials = len(self.oracle.trials)  # KerasTuner's own stop

    def on_trial_begin(self, trial):
        number = self.oracle.start_order.index(trial.trial_id) + 1
        best = best_trial(self.oracle)
        progress = [f"trial {number} of {self.oracle.max_trials or '?'}"]
        if best:
            progress.append(f"best so far {self.oracle.objective.name} {best.score:.4f} (trial {best.trial_id})")
        if self.budget_seconds:
            progress.append(f"{self.spent_seconds() / 60:.1f} of {self.budget_seconds / 60:g} minutes spent")
        print(", ".join(progress), flush=True)

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        if trial.status == "FAILED":
            print(f"trial {trial.trial_id} failed: {last_line(trial.message)}", flush=True)


def train_trial(config):
    """`training.train(config)`: a run that diverges fails its trial (KerasTuner goes on with
    the next), any other bad input stops the search."""
    try:
        return training.train(config)
    except training.TrainingDiverged as error:
        raise keras_tuner.errors.FailedTrialError(str(error)) from None
    except UserError as error:
        raise SearchError(str(error)) from None


def best_trial(oracle):
    """The finished trial of the best validation metric, or None before any finished."""
    finished = [trial for trial in oracle.trials.values() if trial.status == "COMPLETED" and trial.score is not None]
    return max(finished, key=lambda trial: trial.score, default=None)


def trial_rows(tuner, space):
    """One row per trial, in the order they started: values, validation metric, epochs, wall
    time and run dir."""
    rows = []
    for trial_id in tuner.oracle.start_order:
        trial = tuner.oracle.trials[trial_id]
        run_dir = tuner.run_dir(trial_id)
        finished, run = (run_dir / records.SUMMARY).exists(), read_json(run_dir / training.RUN_FILE) or {}
        rows.append({
            "trial": trial_id,
            "status": trial.status,
            **{name: trial.hyperparameters.values.get(name) for name in space},
            tuner.oracle.objective.name: trial.score,
            "epochs": records.RunSummary.read(run_dir / records.SUMMARY).epochs_run if finished else None,
            "wall_time_seconds": run.get("wall_time_seconds"),
            "model_dir": str(run_dir),
        })
    return rows


def write_results(rows, tune_dir, monitor):
    """results.csv, results.png (the validation metric by trial, and the best so far), and the
    table printed."""
    with open(tune_dir / "results.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]) if rows else ["trial"])
        writer.writeheader()
        writer.writerows(rows)
    print_table(rows)
    pyplot = report.headless_pyplot()
    figure, axes = pyplot.subplots(figsize=(6, 4))
    scores = [(number, row[monitor]) for number, row in enumerate(rows, 1) if row[monitor] is not None]
    if scores:
        numbers, values = zip(*scores)
        axes.plot(numbers, values, "o", label="trial")
        axes.step(numbers, [max(values[:i + 1]) for i in range(len(values))], where="post", label="best so far")
        axes.legend()
    axes.set(xlabel="trial", ylabel=monitor, title=f"{tune_dir.name}: {monitor} by trial")
    figure.tight_layout()
    figure.savefig(tune_dir / "results.png", dpi=100)
    pyplot.close(figure)


def print_table(rows):
    if rows:
        cli.print_table([list(rows[0])] + [[_cell(value) for value in row.values()] for row in rows])


def write_best(tuner, rows, tune_dir):
    """best.json: the best trial (by validation metric), the train.py command that reproduces
    it, and its run evaluated once on the whole test split; returns what it holds."""
    trial = best_trial(tuner.oracle)
    if trial is None:
        raise UserError(f"no trial of {tune_dir} finished: see results.csv for each trial's status")
    run_dir = tuner.run_dir(trial.trial_id)
    config = trial_config(tuner.base_config, trial.hyperparameters.values, run_dir)
    command = flags.train_command(dataclasses.replace(config, model_dir=TUNED_RUN_DIR.format(model=config.model),
                                                      evaluate_test=True))
    print(f"Best: trial {trial.trial_id}, {tuner.oracle.objective.name} {trial.score:.4f}; evaluating its run "
          "on the test split, read for the first time")
    test_report = evaluation.evaluate(run_dir, data_dir=config.data_dir, test_split=config.test_split)
    best = {
        "trial": trial.trial_id,
        "hyperparameters": {name: value for name, value in trial.hyperparameters.values.items()},
        "validation_metrics": {tuner.oracle.objective.name: trial.score},
        "selected_on": "the last epoch's validation metric of each trial; the test split was not read",
        "model_dir": str(run_dir),
        "command": command,
        "test_metrics": {"accuracy": test_report["accuracy"], "examples": test_report["examples"]},
        "test_evaluated_on": test_report["evaluated_on"],
        "trials": {status: sum(row["status"] == status for row in rows) for status in {row["status"] for row in rows}},
        "search_wall_time_seconds": tuner.spent_seconds(),
    }
    records.write_json(tune_dir / "best.json", best)
    print(f"Test accuracy {test_report['accuracy']:.4f} on {test_report['evaluated_on']}; best.json in {tune_dir}; "
          f"to train it again:\n  {command}")
    return best


def search_record(config, space):
    """What defines the search: the model, tuner, space and every trial's run flags."""
    base = dataclasses.asdict(config.base)
    base.pop("cluster_timeout")
    return json.loads(json.dumps({"tuner": config.tuner, "space": {name: repr(dim) for name, dim in space.items()},
                                  "run": base}))


def check_tune_dir(tune_dir, record):
    """Records the search in `tune_dir`, or checks that the one there is the same."""
    before = read_json(tune_dir / SEARCH_FILE)
    if before is None:
        records.write_json(tune_dir / SEARCH_FILE, record)
        return
    differences = training.setting_differences(before, record)
    if differences:
        raise UserError(f"{tune_dir} holds another search ({'; '.join(differences)}): rerun it with its own "
                        "flags to resume, or pass a new --tune-dir")


def read_json(path):
    """The JSON file at `path`, or None when there is none."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def last_line(message):
    lines = [line for line in str(message).strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def _cell(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)
