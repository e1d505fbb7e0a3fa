"""LiteRT (TFLite) and ONNX exports of a classifier, for phones, browsers and edge devices
(`python -m zoo.export --format litert|onnx`).

String ops convert to neither (a `TextVectorization` model becomes a `.tflite` that needs the
Flex delegate, and an ONNX file onnxruntime refuses), so a text classifier is exported without its
preprocessor: the model takes token ids (n-gram models a 0/1 row over their vocabulary, BERT its
three inputs), and `preprocessing.json` (vocabulary and settings) and `tokenizer.py` (the plain
Python of `zoo.serving.edge_tokenizer`, which makes exactly the in-graph inputs) go beside it. An image
classifier takes raw uint8 pixels, as its SavedModel does.

Layout: `EXPORT_DIR/NAME/FORMAT/` (`litert-QUANTIZATION` for LiteRT) holding `model.tflite` or
`model.onnx`, `preprocessing.json` (class names, inputs, and a text model's preprocessing) and
`summary.json`; written in a staging folder and renamed into place, never over an earlier export.
Before that, where the run's test split loads, the export runs through its own runtime on
`AGREEMENT_EXAMPLES` of it and must give the float model's class on `MIN_AGREEMENT` of them
(int8 `bert_text` gives it on 52%); summary.json records the figure.
"""

import contextlib
import json
import pathlib
import re
import shutil
import uuid

import keras
import numpy as np
import tensorflow as tf

from zoo.config import DEFAULT_EDGE_EXPORT_DIR, EXPORT_FORMATS, QUANTIZATIONS
from zoo.errors import UserError, first_line
from zoo.models import text_preprocessing
from zoo.serving import edge_tokenizer
from zoo.store import locks, outputs, records, runs

CALIBRATION_EXAMPLES = 256  # of the training split, that int8 quantization calibrates its ranges on
AGREEMENT_EXAMPLES = 500  # of the test split, that an export is checked against its float model on
MIN_AGREEMENT = 0.98  # healthy exports agree on 99.9% or more (benchmarks/results/*-edge-export.md)
ONNX_OPSET = 17
MODEL_FILES = {"litert": "model.tflite", "onnx": "model.onnx"}


def check_options(format, quantize):
    """A `UserError` for an unknown format or quantization, or a quantization without LiteRT."""
    if format not in EXPORT_FORMATS:
        raise UserError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, got {format!r}")
    if quantize not in QUANTIZATIONS:
        raise UserError(f"--quantize must be one of {', '.join(QUANTIZATIONS)}, got {quantize!r}")
    if format != "litert" and quantize != "none":
        raise UserError(f"--quantize {quantize} is LiteRT's: pass --format litert, or drop --quantize")


def check_format(format, quantize, summary):
    """A `UserError` for a format or quantization that `summary`'s model cannot take."""
    check_options(format, quantize)
    if format != "saved_model" and summary.task != "classification":
        raise UserError(f"{summary.model} is a {summary.task} model: its generation loop runs in TensorFlow; "
                        f"--format {format} exports classifiers only, export it as a SavedModel (--format saved_model)")
    features_from = summary.hyperparameters.get("features_from")
    if format != "saved_model" and features_from:
        raise UserError(f"{summary.model} reads document features that a TensorFlow model (--features-from "
                        f"{features_from}) makes of its texts, which --format {format} cannot carry: export it "
                        "as a SavedModel (--format saved_model)")


def export_run(model_dir, export_dir=DEFAULT_EDGE_EXPORT_DIR, name=None, checkpoint="last", format="litert",
               quantize="none", data_dir=None):
    """Exports the finished classifier run in `model_dir`, or the preset of that name, as LiteRT
    or ONNX; returns the folder written."""
    summary, model, name = runs.open_for_export(model_dir, export_dir, name, checkpoint)
    check_format(format, quantize, summary)
    return export(model, summary, export_dir, name, format, quantize, data_dir)


def export(model, summary, export_dir, name, format, quantize="none", data_dir=None):
    """Writes `model` (a finished classifier run's, raw inputs in) as `format` into
    EXPORT_DIR/NAME/FORMAT[-QUANTIZATION]/ and returns that folder."""
    core, preprocessing = core_model(model, summary.modality)
    target = pathlib.Path(export_dir) / name / (f"litert-{quantize}" if format == "litert" else format)
    if target.exists():
        raise UserError(f"{target} exists: pass another --name or --export-dir, or delete it to export again")
    calibration = quantize == "int8" and calibration_examples(model, core, summary, data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    outputs.remove_dead_stagings(target.parent)
    staging = target.with_name(f"{outputs.STAGING_PREFIX}{uuid.uuid4().hex}")
    try:
        with locks.exclusive(f"{staging}.lock"):
            try:
                staging.mkdir()
                if format == "litert":
                    write_litert(core, staging / MODEL_FILES[format], quantize, calibration, summary.model)
                else:
                    write_onnx(core, staging / MODEL_FILES[format], summary.model)
                write_preprocessing(staging, preprocessing, summary, core)
                agreement = check_agreement(model, staging, summary, data_dir, target.name)
                checked = summary if agreement is None else summary.with_other(agreement=agreement)
                checked.write(staging / records.SUMMARY)  # the run's summary, with the agreement found
                staging.rename(target)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
    except BaseException:
        with contextlib.suppress(OSError):
            target.parent.rmdir()  # made for this export, and left empty
        raise
    return target


def check_agreement(model, folder, summary, data_dir, label):
    """How often the export in `folder`, run by `zoo.edge_predict`, gives `model`'s class on the
    first `AGREEMENT_EXAMPLES` of the run's test split; below `MIN_AGREEMENT` a `UserError`.
    None where the test split does not load (no --data-dir): the export is then unchecked."""
    from zoo import edge_predict, evaluation

    try:
        examples, _, evaluated_on = evaluation.test_examples(summary, data_dir=data_dir)
    except UserError:
        return None
    predict, agreed, count = edge_predict.load(folder), 0, 0
    for inputs, _ in examples.take(AGREEMENT_EXAMPLES).batch(100):
        expected = np.asarray(model.predict(inputs, verbose=0)).argmax(-1)
        agreed, count = agreed + int((np.asarray(predict(inputs.numpy())).argmax(-1) == expected).sum()), count + len(expected)
    share = agreed / max(count, 1)
    if share < MIN_AGREEMENT:
        raise UserError(f"the {label} export gives {summary.model}'s own class on {share:.1%} of {count} held-out "
                        f"examples ({evaluated_on}), under the {MIN_AGREEMENT:.0%} an export must reach; nothing "
                        "was written: export it unquantized or with --quantize float16 or dynamic")
    return {"share": share, "examples": count, "evaluated_on": evaluated_on, "required": MIN_AGREEMENT}


def agreement_line(folder):
    """What the export in `folder` was checked against, in a line, from its summary.json."""
    agreement = records.RunSummary.read(pathlib.Path(folder) / records.SUMMARY).other.get("agreement")
    if agreement is None:
        return "Not checked against its float model (its test split did not load): pass --data-dir to check it"
    return (f"Gives its float model's class on {agreement['share']:.1%} of {agreement['examples']} held-out examples "
            f"({agreement['evaluated_on']})")


def core_model(model, modality):
    """(the model as LiteRT and ONNX take it, the text preprocessor or None): an image classifier
    as it is; a text classifier's inner model, with inputs for what its preprocessor makes."""
    if modality == "image":
        return model, None
    preprocessor = model.get_layer("text_vectorizer")
    [inner] = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    made = in_graph_inputs(preprocessor, tf.constant(["a"]))
    if isinstance(made, dict):
        inputs = {name: keras.Input(shape=value.shape[1:], dtype="int32", name=name) for name, value in made.items()}
    elif preprocessor.get_config().get("output_mode") == "multi_hot":
        inputs = keras.Input(shape=made.shape[1:], dtype="float32", name="ngrams")
    else:
        inputs = keras.Input(shape=made.shape[1:], dtype="int32", name="token_ids")
    return keras.Model(inputs, inner(inputs), name=f"{model.name}_token_ids"), preprocessor


def in_graph_inputs(preprocessor, texts):
    """What the in-graph preprocessor makes of `texts`: dense arrays (a dict for BERT)."""
    made = preprocessor(texts)
    if isinstance(made, tf.SparseTensor):
        made = tf.sparse.to_dense(made)
    return {name: np.asarray(value) for name, value in made.items()} if isinstance(made, dict) else np.asarray(made)


def litert_options(quantize, calibration=None):
    """`tf.lite.TFLiteConverter` settings of each quantization: float16 weights, dynamic-range
    int8 weights, or full-integer int8 (weights and activations, ranges from `calibration`).
    LiteRT's builtin ops only: Keras would let TensorFlow ops in, which `ai_edge_litert` cannot run."""
    builtins = {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}
    optimized = {"optimizations": [tf.lite.Optimize.DEFAULT]}
    if quantize == "none":
        return {"target_spec": builtins}
    if quantize == "float16":
        return {**optimized, "target_spec": {**builtins, "supported_types": [tf.float16]}}
    if quantize == "dynamic":
        return {**optimized, "target_spec": builtins}
    return {**optimized,  # an example is a list of arrays, or a dict of them by input name (BERT)
            "representative_dataset": lambda: (example if isinstance(example, dict) else [example] for example in calibration),
            "target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]}}


def calibration_examples(model, core, summary, data_dir):
    """`CALIBRATION_EXAMPLES` of the run's training split as `core` takes them, one batch of one
    each (a dict of arrays for BERT). Of a plain TFDS split only its first examples are read."""
    train_split = summary.hyperparameters["train_split"]
    if not any(mark in train_split for mark in "[+"):
        train_split = f"{train_split}[:{2 * CALIBRATION_EXAMPLES}]"  # the last tenth is set apart for validation
    try:
        datasets = runs.reopen_data(summary, data_dir, train_split=train_split, test_split=None,
                                    apply_preprocessor=False)
    except UserError as error:
        raise UserError(f"--quantize int8 calibrates on the training split, which did not load ({error}): "
                        "pass --data-dir, or pick float16 or dynamic, which need no data") from None
    examples = [inputs for inputs, _ in datasets.train.take(CALIBRATION_EXAMPLES)]
    if summary.modality == "image":
        return [np.asarray(example) for example in examples]
    return [core_inputs(model, core, example) for example in examples]


def core_inputs(model, core, texts):
    """`core`'s inputs for `texts`, as `model`'s preprocessor makes them (what tokenizer.py makes)."""
    made = in_graph_inputs(model.get_layer("text_vectorizer"), texts)
    if isinstance(made, dict):
        return {name: value.astype(core.input[name].dtype) for name, value in made.items()}
    return made.astype(core.input.dtype)


def write_litert(core, path, quantize, calibration, model_name):
    """`core` converted by `tf.lite.TFLiteConverter`; a model it cannot convert to builtin ops so
    quantized (`lstm_text`'s LSTM loops need TensorFlow's TensorList ops) is a `UserError`."""
    try:
        core.export(str(path), format="litert", verbose=False, **litert_options(quantize, calibration))
    except Exception as error:  # the converter's ConverterError is not public
        if type(error).__name__ != "ConverterError":
            raise
        missing = sorted(set(re.findall(r"'(tf\.\w+)' op", str(error)))) or [first_line(error, 120)]
        raise UserError(f"LiteRT's builtin ops cannot run {model_name} with --quantize {quantize} (it needs "
                        f"{', '.join(missing)}); export it as a SavedModel (--format saved_model)") from None


def write_onnx(core, path, model_name):
    """`core` as ONNX, its inputs named as the model's and its output `probabilities`. It is
    traced in inference mode and frozen here, then converted by tf2onnx: Keras 3.15's
    `export(format="onnx")` traces it with `training` unset (a BatchNormalization model then
    converts with training-mode statistics), and tf2onnx's own freezing leaves a constant computed
    at build time (`transformer_text`'s first-position mask) as an input to feed. A file that
    onnxruntime then refuses (`lstm_text`'s LSTMs convert to one) is a `UserError`."""
    import onnx
    import tf2onnx
    from keras.src.export.tf2onnx_lib import patch_tf2onnx  # tf2onnx 1.17 under NumPy 2, as Keras does
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    signature = tf.nest.map_structure(lambda input: tf.TensorSpec(input.shape, input.dtype, name=input.name), core.input)
    frozen = convert_variables_to_constants_v2(tf.function(lambda inputs: core(inputs, training=False))
                                               .get_concrete_function(signature))
    patch_tf2onnx()
    converted, _ = tf2onnx.convert.from_graph_def(
        frozen.graph.as_graph_def(), input_names=[tensor.name for tensor in frozen.inputs],
        output_names=[tensor.name for tensor in frozen.outputs], opset=ONNX_OPSET,
    )
    renamed = {tensor.name: tensor.name.split(":")[0] for tensor in frozen.inputs}
    renamed[frozen.outputs[0].name] = "probabilities"
    for value in [*converted.graph.input, *converted.graph.output]:
        value.name = renamed.get(value.name, value.name)
    for node in converted.graph.node:
        node.input[:] = [renamed.get(name, name) for name in node.input]
        node.output[:] = [renamed.get(name, name) for name in node.output]
    onnx.save(converted, str(path))
    import onnxruntime

    try:
        onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime's errors share no public base class
        raise UserError(f"tf2onnx converts {model_name} to an ONNX file that onnxruntime refuses "
                        f"({first_line(error, 160)}); export it as a SavedModel (--format saved_model)") from None


def write_preprocessing(folder, preprocessor, summary, core):
    """preprocessing.json (class names, the model's inputs, a text model's vocabulary and
    settings) and tokenizer.py for a text model."""
    inputs = [{"name": input.name, "dtype": str(input.dtype), "shape": list(input.shape)} for input in tf.nest.flatten(core.input)]
    settings = {"class_names": summary.class_names, "inputs": inputs}
    if preprocessor is not None:
        settings.update(tokenizer_settings(preprocessor))
        shutil.copy(edge_tokenizer.__file__, folder / "tokenizer.py")
    (folder / "preprocessing.json").write_text(json.dumps(settings, ensure_ascii=False))


def tokenizer_settings(preprocessor):
    """What `zoo.serving.edge_tokenizer.Tokenizer` needs to make the preprocessor's outputs."""
    config = preprocessor.get_config()
    vocabulary = [str(token) for token in preprocessor.get_vocabulary()]
    if isinstance(preprocessor, text_preprocessing.BertInputs):
        standardize = preprocessor._words_options["standardize"]
        return {"mode": "bert", "vocabulary": vocabulary, "sequence_length": preprocessor.sequence_length,
                "standardize": "keras" if standardize == text_preprocessing.KERAS_STANDARDIZE else "words"}
    standardize = "keras" if config["standardize"] == text_preprocessing.KERAS_STANDARDIZE else "words"
    if config["output_mode"] == "multi_hot":
        return {"mode": "multi_hot", "vocabulary": vocabulary, "ngrams": config["ngrams"] or 1,
                "width": config["max_tokens"], "standardize": standardize}
    return {"mode": "token_ids", "vocabulary": vocabulary, "sequence_length": config["output_sequence_length"],
            "standardize": standardize}
