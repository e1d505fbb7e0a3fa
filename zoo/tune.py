"""Search a registered model's hyperparameters with KerasTuner, every trial a train.py run.

    python -m zoo.tune --model ngram_text --data-dir ../shared/tensorflow_datasets --max-trials 10
    python -m zoo.tune --model mnist_cnn_small --tuner bayesian --budget-minutes 30 --hp batch_size=128
    python -m zoo.tune --model transformer_text --hp learning_rate=1e-3:3e-3 --hp num_layers=1,2

Trials are judged on the validation split; the test split is read once, at the end, to evaluate
the best trial's run. Rerunning an interrupted command resumes the search (see zoo.training.tuning).
"""

import argparse
import sys

from zoo import cli, flags
from zoo.config import DEFAULT_MAX_TRIALS, TUNERS, TuneConfig


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="registered model name with a search space")
    parser.add_argument("--tuner", choices=TUNERS, default="random", help="KerasTuner's oracle (default: %(default)s)")
    parser.add_argument("--max-trials", type=int, default=DEFAULT_MAX_TRIALS,
                        help="the most trials to run (default: %(default)s)")
    parser.add_argument("--budget-minutes", type=float,
                        help="start no trial once the trials so far took this long (wall time, resumed runs included)")
    parser.add_argument("--hp", action="append", default=[], metavar="NAME=VALUE|LOW:HIGH|A,B",
                        help="fix a dimension of the search space, narrow its range, or pick its values; repeatable")
    parser.add_argument("--tune-dir", help="KerasTuner's project folder, with every trial's run (default: tuning/MODEL)")
    flags.add_run_flags(parser)
    return parser.parse_args(argv)


@cli.command("zoo.tune", interrupted="interrupted: rerun the same command to resume the search")
def main(argv=None):
    args = parse_args(argv)
    config = TuneConfig(
        base=flags.train_config(args, model_dir=None),
        tuner=args.tuner,
        max_trials=args.max_trials,
        budget_minutes=args.budget_minutes,
        hp=tuple(args.hp),
        tune_dir=args.tune_dir,
    )
    cli.quiet_start()
    from zoo.training import tuning  # TensorFlow loads only after the flags are parsed

    tuning.search(config)


if __name__ == "__main__":
    sys.exit(main())
