"""SavedModels that TensorFlow Serving loads as they are.

Layout: `EXPORT_DIR/NAME/VERSION/` with integer versions, each written in a hidden staging
folder and renamed into place when complete, so Serving never sees a partial version; and
`EXPORT_DIR/models.config`, a ModelServerConfig listing every exported model. Each version's
`assets.extra/` holds Serving's warm-up requests and the run's `summary.json` (what it was trained
on, its class names: what `zoo.evaluate` needs to check the export).
"""

import errno
import pathlib
import shutil
import uuid

import tensorflow as tf
from google.protobuf import text_format
from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2
from tensorflow_serving.config import model_server_config_pb2

from zoo.config import DEFAULT_EXPORT_DIR
from zoo.errors import UserError
from zoo.registry import get_model_spec
from zoo.store import locks, outputs, records, runs
from zoo.tasks import get_task
from zoo.tasks.classification import IMAGE_BYTES_SIGNATURE

SERVING_BASE_PATH = "/models"  # where the serving guide's docker command mounts the export dir

WARMUP_TEXTS = ["A wonderful film, moving and funny.", "Dull, slow and far too long."]

WARMUP_BATCH_SIZES = (1, 4)


def export(model_dir, export_dir=DEFAULT_EXPORT_DIR, name=None, checkpoint="last"):
    """Exports the finished run in `model_dir`, or the preset of that name (its final model, or with
    `checkpoint="best"` its best-validation checkpoint), as the next version of `name` (default:
    the model's registered name); returns the version folder. Existing versions are never touched."""
    summary, model, name = runs.open_for_export(model_dir, export_dir, name, checkpoint)
    spec = get_model_spec(summary.model)
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
            summary.write(staging / "assets.extra" / records.SUMMARY)
            version_dir = publish(staging, model_base)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    write_models_config(export_dir)
    return version_dir


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
