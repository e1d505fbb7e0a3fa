"""Export a trained model dir as a SavedModel that TensorFlow Serving loads as it is, or a
classifier as LiteRT or ONNX for phones and edge devices (see zoo.edge_export).

    python -m zoo.export --model-dir runs/mnist_cnn [--export-dir saved_models] [--name NAME] [--checkpoint best]
    python -m zoo.export --model-dir mnist_cnn   # the shipped preset
    python -m zoo.export --model-dir mnist_cnn --format litert --quantize int8 --data-dir DIR  # edge_models/mnist_cnn/litert-int8
    python -m zoo.export --model-dir ngram_text --format onnx   # token ids in; tokenizer.py beside it

Layout: `EXPORT_DIR/NAME/VERSION/` with integer versions, each written in a hidden staging
folder and renamed into place when complete, so Serving never sees a partial version; and
`EXPORT_DIR/models.config`, a ModelServerConfig listing every exported model. Each version's
`assets.extra/` holds Serving's warm-up requests and the run's `summary.json` (what it was trained
on, its class names: what `zoo.evaluate` needs to check the export).
"""

import argparse
import sys

from zoo import cli
from zoo.config import CHECKPOINTS, DEFAULT_EDGE_EXPORT_DIR, DEFAULT_EXPORT_DIR, EXPORT_FORMATS, QUANTIZATIONS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Export a trained model dir for TF Serving.")
    parser.add_argument("--model-dir", required=True, help="a finished train.py run, or a preset's name")
    parser.add_argument("--export-dir", help=f"root of the exported models (default: {DEFAULT_EXPORT_DIR}, "
                                             f"and {DEFAULT_EDGE_EXPORT_DIR} for LiteRT and ONNX)")
    parser.add_argument("--name", help="model name under the export dir (default: the model's)")
    parser.add_argument("--checkpoint", choices=tuple(CHECKPOINTS), default="last",
                        help="the run's final model, or its best-validation checkpoint")
    parser.add_argument("--format", choices=EXPORT_FORMATS, default="saved_model",
                        help="TF Serving's SavedModel, LiteRT (TFLite) or ONNX (default: %(default)s)")
    parser.add_argument("--quantize", choices=QUANTIZATIONS, default="none",
                        help="LiteRT's: float16 or dynamic-range weights, or full-integer int8 "
                             "(calibrated on the training split: needs its data)")
    parser.add_argument("--data-dir", help="TFDS data dir of the run's training split, for --quantize int8")
    parser.add_argument("--verbose", action="store_true",
                        help="show what TensorFlow and the converters print (held back by default)")
    return parser.parse_args(argv)

if __name__ == "__main__":
    ARGS = parse_args()  # first: --help and flag errors answer before TensorFlow loads
    cli.quiet_start(ARGS.verbose)

import errno  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import shutil  # noqa: E402
import uuid  # noqa: E402

import tensorflow as tf  # noqa: E402
from google.protobuf import text_format  # noqa: E402
from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2  # noqa: E402
from tensorflow_serving.config import model_server_config_pb2  # noqa: E402

from zoo import locks, outputs, presets, saving  # noqa: E402
from zoo.errors import UserError, first_line  # noqa: E402
from zoo.predict import IMAGE_BYTES_SIGNATURE  # noqa: E402
from zoo.registry import NAME_PATTERN, get_model_spec  # noqa: E402
from zoo.tasks import get_task  # noqa: E402

SERVING_BASE_PATH = "/models"  # where the README's docker command mounts the export dir
WARMUP_TEXTS = ["A wonderful film, moving and funny.", "Dull, slow and far too long."]
WARMUP_BATCH_SIZES = (1, 4)


def export(model_dir, export_dir=DEFAULT_EXPORT_DIR, name=None, checkpoint="last"):
    """Exports the finished run in `model_dir`, or the preset of that name (its final model, or with
    `checkpoint="best"` its best-validation checkpoint), as the next version of `name` (default:
    the model's registered name); returns the version folder. Existing versions are never touched."""
    if name is not None and not NAME_PATTERN.match(name):
        raise UserError(f"--name {name!r} must match {NAME_PATTERN.pattern}, as model names do")
    outputs.check_writable(export_dir, "--export-dir")
    summary, model = load_run(presets.resolve(model_dir), checkpoint)
    spec = get_model_spec(summary["model"])
    name = name or spec.name
    archive = get_task(spec.task).serving_archive(model, spec.serving_input, summary)

    model_base = pathlib.Path(export_dir) / name
    try:
        model_base.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot write --export-dir {export_dir}: {error.strerror} ({error.filename})") from None
    outputs.remove_dead_stagings(model_base)
    staging = model_base / f"{outputs.STAGING_PREFIX}{uuid.uuid4().hex}"
    with locks.exclusive(f"{staging}.lock"):
        try:
            archive.write_out(str(staging), verbose=False)
            write_warmup_requests(staging, name, spec.serving_input, model.input_shape[1:])
            (staging / "assets.extra" / "summary.json").write_text(json.dumps({**summary, "checkpoint": checkpoint}, indent=2))
            version_dir = publish(staging, model_base)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    write_models_config(export_dir)
    return version_dir


def load_run(model_dir, checkpoint="last"):
    """The finished run's summary and its `model.keras` (or, `checkpoint="best"`, its
    `checkpoints/best.keras`): a missing or broken file, or a run whose task is not served
    (pretraining), is a `UserError`."""
    model_dir = pathlib.Path(model_dir)
    if not (model_dir / "summary.json").exists():
        raise UserError(f"{model_dir} holds no finished run (no summary.json): train it first")
    try:
        summary = json.loads((model_dir / "summary.json").read_text())
    except ValueError as error:  # JSONDecodeError is a ValueError
        raise _damaged(model_dir, error) from None
    check_served(summary["model"])
    if checkpoint != "last" and presets.is_preset(model_dir):
        raise UserError(f"preset {model_dir.name} ships its final model only: drop --checkpoint {checkpoint}")
    model = saving.load_model(model_dir / CHECKPOINTS[checkpoint], "--model-dir")
    text_classifier = summary["task"] == "classification" and summary["modality"] == "text"
    if text_classifier and model.inputs[0].dtype != "string":  # a causal LM keeps its tokenizer apart
        raise UserError(
            f"{model_dir}'s {CHECKPOINTS[checkpoint]} takes token ids, not texts: it predates checkpoints of the "
            "model with its preprocessor; use the run's model.keras (--checkpoint last), or train again"
        )
    return summary, model


def check_served(model_name):
    """A `UserError` unless runs of `model_name` are served (pretraining runs are not)."""
    if not get_task(get_model_spec(model_name).task).exportable:
        raise UserError(
            f"{model_name} is pretrained to be fine-tuned, not served: fine-tune it "
            "(train.py --init-from) and export that run"
        )


def _damaged(model_dir, error):
    return UserError(f"{model_dir} holds a damaged run ({first_line(error)}): train it again in a new --model-dir")


def publish(staging, model_base):
    """Renames the complete `staging` folder to the next free integer version under `model_base`
    and returns it. The rename is atomic; when another export takes that version first, the
    rename fails (the version holds files) and the next one is tried."""
    while True:
        versions = [int(path.name) for path in model_base.iterdir() if path.name.isdigit()]
        version_dir = model_base / str(1 + max(versions, default=0))
        try:
            staging.rename(version_dir)
            return version_dir
        except OSError as error:
            if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise


def warmup_requests(name, serving_input, input_shape):
    """PredictRequests of the sizes Serving will see first, so the first user is not the slow one."""
    requests = []
    for batch_size in WARMUP_BATCH_SIZES:
        if serving_input == "text":
            inputs = {"serving_default": {"text": (WARMUP_TEXTS * batch_size)[:batch_size]}}
        else:
            images = tf.zeros((batch_size,) + tuple(input_shape), tf.uint8)
            inputs = {
                "serving_default": {"images": images.numpy()},
                IMAGE_BYTES_SIGNATURE: {
                    "image_bytes": [tf.io.encode_png(image).numpy() for image in images]
                },
            }
        for signature, tensors in inputs.items():
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=name, signature_name=signature)
            )
            for key, value in tensors.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
            requests.append(request)
    return requests


def write_warmup_requests(saved_model_dir, name, serving_input, input_shape):
    """Writes `assets.extra/tf_serving_warmup_requests`, the file TF Serving replays on load."""
    assets_extra = pathlib.Path(saved_model_dir) / "assets.extra"
    assets_extra.mkdir()
    with tf.io.TFRecordWriter(str(assets_extra / "tf_serving_warmup_requests")) as writer:
        for request in warmup_requests(name, serving_input, input_shape):
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())


def write_models_config(export_dir, base_path=SERVING_BASE_PATH):
    """Rewrites `models.config` (for `--model_config_file`) to list every exported model."""
    export_dir = pathlib.Path(export_dir)
    config = model_server_config_pb2.ModelServerConfig()
    for model_base in sorted(export_dir.iterdir()):
        if model_base.is_dir() and any(path.name.isdigit() for path in model_base.iterdir()):
            config.model_config_list.config.add(
                name=model_base.name, base_path=f"{base_path}/{model_base.name}", model_platform="tensorflow"
            )
    staging = export_dir / f".models.config-{uuid.uuid4().hex}"
    staging.write_text(text_format.MessageToString(config))
    staging.replace(export_dir / "models.config")


def export_edge(model_dir, export_dir=DEFAULT_EDGE_EXPORT_DIR, name=None, checkpoint="last", format="litert",
                quantize="none", data_dir=None):
    """Exports the finished classifier run in `model_dir`, or the preset of that name, as LiteRT
    or ONNX (`zoo.edge_export`); returns the folder written."""
    from zoo import edge_export

    if name is not None and not NAME_PATTERN.match(name):
        raise UserError(f"--name {name!r} must match {NAME_PATTERN.pattern}, as model names do")
    outputs.check_writable(export_dir, "--export-dir")
    summary, model = load_run(presets.resolve(model_dir), checkpoint)
    edge_export.check_format(format, quantize, summary)
    return edge_export.export(model, {**summary, "checkpoint": checkpoint}, export_dir, name or summary["model"],
                              format, quantize, data_dir)


@cli.command("zoo.export")
def main(argv=None, args=None):
    args = args or parse_args(argv)
    from zoo import edge_export

    edge_export.check_options(args.format, args.quantize)
    with cli.held_output(args.verbose):
        if args.format == "saved_model":
            exported = export(args.model_dir, args.export_dir or DEFAULT_EXPORT_DIR, args.name, args.checkpoint)
        else:
            exported = export_edge(args.model_dir, args.export_dir or DEFAULT_EDGE_EXPORT_DIR, args.name,
                                   args.checkpoint, args.format, args.quantize, args.data_dir)
    print(f"Exported {exported}")
    if args.format != "saved_model":
        print(edge_export.agreement_line(exported))


if __name__ == "__main__":
    sys.exit(main(args=ARGS))
