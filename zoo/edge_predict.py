"""Class probabilities from a LiteRT or ONNX export (`zoo.serving.edge_export`) through its own runtime,
`ai_edge_litert` or `onnxruntime`, without TensorFlow: raw uint8 images in, or texts, which the
export's own tokenizer.py turns into its token ids."""

import importlib.util
import json
import pathlib

import numpy as np

from zoo.errors import UserError

SETTINGS = "preprocessing.json"
MODEL_FILES = ("model.tflite", "model.onnx")


def load(folder):
    """A function from a batch of raw inputs (uint8 images, or strings) to class probabilities,
    running the export in `folder`; its `settings` are preprocessing.json's. Inputs it was not
    made for are a `UserError` saying what it takes."""
    folder = check_export(pathlib.Path(folder))
    settings = json.loads((folder / SETTINGS).read_text(encoding="utf-8"))
    run = model_runner(folder)
    dtypes = {input["name"]: np.dtype(input["dtype"]) for input in settings["inputs"]}
    tokenizer = _tokenizer(folder) if "mode" in settings else None

    def predict(inputs):
        if tokenizer is None:
            [input] = settings["inputs"]
            return run({input["name"]: _pixels(inputs, input["shape"][1:])})
        made = tokenizer(_texts(inputs))
        made = made if isinstance(made, dict) else {next(iter(dtypes)): made}
        return run({name: np.asarray(value, dtypes[name]) for name, value in made.items()})

    predict.settings = settings
    return predict


def check_export(folder):
    """`folder` if it holds a LiteRT or ONNX export, else a `UserError` naming what it holds."""
    if (folder / SETTINGS).is_file() and any((folder / model).is_file() for model in MODEL_FILES):
        return folder
    if (folder / "saved_model.pb").is_file():
        raise UserError(f"{folder} is a SavedModel: run it with `python -m zoo.predict` or TensorFlow; "
                        "zoo.edge_predict runs the LiteRT and ONNX files of `zoo.export --format litert|onnx`")
    exports = sorted(str(path.parent) for path in folder.glob(f"**/{SETTINGS}")) if folder.is_dir() else []
    if exports:
        raise UserError(f"{folder} holds exports, not one: pass one of {', '.join(exports[:5])}")
    raise UserError(f"{folder} holds no LiteRT or ONNX export ({SETTINGS} and {' or '.join(MODEL_FILES)}); "
                    "make one with `python -m zoo.export --format litert|onnx`")


def _pixels(images, shape):
    """`images` as the export's uint8 pixels, or a `UserError` saying what it takes."""
    images = np.asarray(images)
    if images.dtype.kind not in "ui":
        raise UserError(f"images must be uint8 pixels 0-255, as the model was trained on; got {images.dtype} "
                        "(pixels in [0, 1]: multiply by 255 and convert to uint8)")
    if images.size and (images.min() < 0 or images.max() > 255):
        raise UserError(f"images must be uint8 pixels 0-255; got values from {images.min()} to {images.max()}")
    if list(images.shape[1:]) != shape:
        raise UserError(f"images must be a batch of shape (N, {', '.join(map(str, shape))}); got {images.shape}: "
                        "resize them first (zoo.predict does)")
    return images.astype(np.uint8)


def _texts(texts):
    """`texts` as `str`s, bytes decoded as UTF-8, or a `UserError` naming one that is not."""
    decoded = []
    for number, text in enumerate(texts, 1):
        try:
            decoded.append(text.decode("utf-8") if isinstance(text, bytes) else str(text))
        except UnicodeDecodeError:
            raise UserError(f"text {number} is not valid UTF-8; decode it to str first") from None
    return decoded


def model_runner(folder):
    """A function from the export's inputs (a dict of arrays by input name) to its output."""
    folder = pathlib.Path(folder)
    return _litert(folder / "model.tflite") if (folder / "model.tflite").exists() else _onnx(folder / "model.onnx")


def _litert(path):
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(str(path)).get_signature_runner()  # resizes its inputs to each batch
    return lambda inputs: next(iter(runner(**inputs).values()))


def _onnx(path):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda inputs: session.run(None, inputs)[0]


def _tokenizer(folder):
    """The export's tokenizer.py, imported from the export itself, as a device would."""
    spec = importlib.util.spec_from_file_location(f"tokenizer_{abs(hash(str(folder)))}", folder / "tokenizer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Tokenizer.load(folder / "preprocessing.json")
