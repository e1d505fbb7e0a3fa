"""A run's record, `summary.json`: what ran, written once by the training driver and read back
through `RunSummary` by everything else; and the strict JSON every run file is written as."""

import dataclasses
import json
import pathlib

SUMMARY = "summary.json"


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """What a finished run was and what it measured. `hyperparameters` are the settings it ran
    with (what was asked, `run.json`, with what the recipe and the data decided); each metrics
    dict says how many examples it covers. `other` holds where it ran (strategy, devices,
    versions) and what an export adds (its checkpoint, an edge export's agreement)."""

    model: str
    dataset: str
    modality: str
    task: str
    examples: dict
    parameters: int
    hyperparameters: dict
    class_names: list | None = None
    init_from: dict | None = None
    resumed: bool = False
    epochs_run: int | None = None
    training_pieces: list | None = None
    train_metrics: dict = dataclasses.field(default_factory=dict)
    validation_metrics: dict = dataclasses.field(default_factory=dict)
    test_metrics: dict | None = None
    train_examples_per_second: float | None = None
    wall_time_seconds: float | None = None
    other: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, record):
        known = {field.name for field in dataclasses.fields(cls)} - {"other"}
        return cls(**{key: value for key, value in record.items() if key in known},
                   other={key: value for key, value in record.items() if key not in known})

    @classmethod
    def read(cls, path):
        """The summary in the JSON file at `path`."""
        return cls.from_dict(json.loads(pathlib.Path(path).read_text()))

    def to_dict(self):
        record = {field.name: getattr(self, field.name) for field in dataclasses.fields(self) if field.name != "other"}
        return {**record, **self.other}

    def write(self, path):
        write_json(pathlib.Path(path), self.to_dict())

    def with_other(self, **facts):
        """This summary with more facts in `other` (an export's checkpoint, its agreement)."""
        return dataclasses.replace(self, other={**self.other, **facts})


def write_json(path, value):
    """Writes `value` as strict JSON (a NaN is an error, not an invalid file), atomically."""
    staging = path.with_name(f".{path.name}.partial")
    staging.write_text(json.dumps(value, indent=2, default=_to_json, allow_nan=False))
    staging.replace(path)


def _to_json(value):
    """JSON for what `json` does not know: tuples are handled, NumPy scalars are not."""
    return value.item() if hasattr(value, "item") else str(value)
