"""Class probabilities from a LiteRT or ONNX export (`zoo.edge_export`) through its own runtime,
`ai_edge_litert` or `onnxruntime`, without TensorFlow: raw uint8 images in, or texts, which the
export's own tokenizer.py turns into its token ids."""

import importlib.util
import json
import pathlib

import numpy as np


def load(folder):
    """A function from a batch of raw inputs (uint8 images, or strings) to class probabilities,
    running the export in `folder`; its `settings` are preprocessing.json's."""
    folder = pathlib.Path(folder)
    settings = json.loads((folder / "preprocessing.json").read_text(encoding="utf-8"))
    run = model_runner(folder)
    dtypes = {input["name"]: np.dtype(input["dtype"]) for input in settings["inputs"]}
    tokenizer = _tokenizer(folder) if "mode" in settings else None

    def predict(inputs):
        if tokenizer is None:
            [name] = dtypes
            return run({name: np.asarray(inputs, dtypes[name])})
        made = tokenizer([text.decode("utf-8") if isinstance(text, bytes) else str(text) for text in inputs])
        made = made if isinstance(made, dict) else {next(iter(dtypes)): made}
        return run({name: np.asarray(value, dtypes[name]) for name, value in made.items()})

    predict.settings = settings
    return predict


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
