"""Loads a SavedModel the way TF Serving does, with TensorFlow alone, and reports on it as JSON:
the serving_default outputs for the inputs in an .npz file (and a causal LM's generated texts),
the op types that stock TensorFlow does not register, and which of keras, keras_hub and
tensorflow_text loading and running it imported beyond what `import tensorflow` itself imports.

    python tests/tensorflow_only.py SAVED_MODEL_DIR INPUTS.npz
"""

import json
import pathlib
import sys

import numpy as np
import tensorflow as tf

IMPORTED_BY_TENSORFLOW = set(sys.modules)
PROMPTS = ["This movie", ""]

from tensorflow.core.protobuf import saved_model_pb2  # noqa: E402
from tensorflow.python.framework import op_def_registry  # noqa: E402


def op_types(saved_model_dir):
    """Every op type in the SavedModel's graphs, functions included."""
    saved_model = saved_model_pb2.SavedModel.FromString(
        (pathlib.Path(saved_model_dir) / "saved_model.pb").read_bytes()
    )
    types = set()
    for meta_graph in saved_model.meta_graphs:
        types.update(node.op for node in meta_graph.graph_def.node)
        for function in meta_graph.graph_def.library.function:
            types.update(node.op for node in function.node_def)
    return types


def as_json(tensor):
    """A tensor as lists, strings decoded."""
    if tensor.dtype == tf.string:
        return [value.decode() for value in tensor.numpy()]
    return tensor.numpy().tolist()


def generated(signatures):
    """For a causal LM: texts its `generate` signature writes after `PROMPTS`, twice with seed 1
    and once with seed 2, 12 tokens long."""
    if "generate" not in signatures:
        return None
    return [
        as_json(signatures["generate"](prompts=tf.constant(PROMPTS), max_length=tf.constant(12),
                                       temperature=tf.constant(1.0), seed=tf.constant(seed))["text"])
        for seed in (1, 1, 2)
    ]


def main(saved_model_dir, inputs_file):
    signature = tf.saved_model.load(saved_model_dir).signatures["serving_default"]
    (input_name, _), = signature.structured_input_signature[1].items()
    outputs = signature(**{input_name: tf.constant(np.load(inputs_file)["inputs"])})
    print(json.dumps({
        **{name: as_json(value) for name, value in outputs.items()},
        "generated": generated(tf.saved_model.load(saved_model_dir).signatures),
        "op_types": sorted(op_types(saved_model_dir)),
        "unregistered_ops": sorted(op for op in op_types(saved_model_dir) if op_def_registry.get(op) is None),
        "imported": sorted(
            name for name in set(sys.modules) - IMPORTED_BY_TENSORFLOW
            if name.split(".")[0] in ("keras", "keras_hub", "tensorflow_text")
        ),
    }))


if __name__ == "__main__":
    main(*sys.argv[1:])
