"""Starting a run from another one's weights (`train.py --init-from`): a finished run dir, a
keras-hub preset folder such as the pretrained encoder that a masked-LM run saves, or the name
of a shipped preset (`zoo.store.presets`).

Layers are matched by name, where the name is the model's own (`bert_backbone`, `logits`), or,
for a name Keras generated (`dense_3`), by class and order (the first `Dense`), since generated
names change with what else the process built. Matched layers must hold weights of the same
shapes, except the output layer, which starts anew when the class count differs. A text model
also takes the source's vocabulary, so its token ids mean what the copied embeddings learnt.

Word vectors (a `word2vec` run or preset) go into a word-level model's token embedding. A model
whose preprocessing is the vectors' own takes their vocabulary whole, so that words never seen
among a few labelled texts still arrive with their meaning; any other (BERT's, with its special
tokens) keeps the vocabulary it adapts, and each of its words that the vectors know gets their
row. Vectors wider than the embedding are projected onto their principal components. With
fewer than `FREEZE_BELOW_EXAMPLES` labelled training examples the embedding then stays as the
vectors left it (frozen, as Kim 2014's CNN-static): fine-tuned on a few hundred reviews, the rows
of the words those hold drift away from the rest, which the classifier then reads inconsistently.
With more, it is fine-tuned. Measured on `embedding_bag_text`
(benchmarks/results/cpu2-2026-12-06-frozen-word-vectors.jsonl): on 1,000 IMDB labels frozen
vectors score 86% on validation against 84% fine-tuned (82.97% and 82.30% on test); on all
25,000 they cost 3.6 points (84.48% on test against 88.08% from scratch).
"""


import keras
import numpy as np

from zoo.errors import UserError
from zoo.models.text_preprocessing import BertInputs
from zoo.registry import get_model_spec, list_models
from zoo.store import presets, runs, saving, sources


def load_source(path):
    """The run dir or preset folder at `path`, or the shipped preset of that name (`sources.read`)."""
    return sources.read(presets.resolve(path))


def load_document_features(path):
    """The texts-to-features model of the `vampire` run or preset at `path` (`--features-from`);
    a run of another task is a `UserError`."""
    directory = presets.resolve(path)
    summary = runs.read_summary(directory)
    if summary.task != "vampire":
        raise UserError(f"--features-from {path}: a {summary.model} ({summary.task}) run gives no document features; "
                        "pass a vampire run or the vampire preset")
    return saving.load_model(directory / "model.keras", "--features-from", compile=False)


def training_pieces(source, model_name):
    """The training runs behind `source`'s weights when it is a run, or preset, of the same model
    (continued training): each run's steps, batch size, sequence length and wall time, oldest
    first. A summary from before the zoo recorded them counts as one run."""
    if source is None or source.summary is None or source.summary.model != model_name:
        return []
    summary = source.summary
    if summary.training_pieces is not None:
        return summary.training_pieces
    recipe = summary.hyperparameters
    steps = recipe["epochs"] * recipe["steps_per_epoch"]
    return [{
        "steps": min(steps, recipe["max_steps"] or steps),
        "batch_size": recipe["batch_size"],
        "sequence_length": recipe["model_args"].get("sequence_length"),
        "wall_time_seconds": summary.wall_time_seconds,
    }]


def check_preprocessor(source, unadapted, model_name):
    """The source's adapted preprocessor, once checked to make the inputs the run's model
    (`model_name`) is built for (`unadapted` is the run's own, None for models without one),
    packing texts to the run's sequence length where the two differ only in that. None: the run
    adapts its own (word vectors into a model of other preprocessing)."""
    if (source.preprocessor is None) != (unadapted is None):
        raise UserError(f"--init-from {source.path}: {_described(source)} holds no layers that {model_name} can start "
                        f"from; start from a run or preset of {model_name}")
    if unadapted is None:
        return None
    if is_word_vectors(source):
        if not _makes_token_ids(unadapted):
            raise UserError(f"--init-from {source.path}: word vectors start a model's token embedding, and this "
                            f"one reads no token ids; pick a word-level model ({', '.join(word_level_models())})")
        if type(unadapted) is not type(source.preprocessor):
            return None
    theirs, ours = _settings(source.preprocessor), _settings(unadapted)
    if theirs["class"] != ours["class"]:
        raise UserError(f"--init-from {source.path}: {_described(source)} reads text with {theirs['class']}, "
                        f"{model_name} with {ours['class']}, whatever its --model-arg values; start from a run or "
                        f"preset of {model_name}")
    differences = [
        f"{name}={theirs.get(name)!r} there, {ours.get(name)!r} here"
        for name in sorted(set(theirs) | set(ours))
        if theirs.get(name) != ours.get(name) and name != "sequence_length"
    ]
    if differences:
        raise UserError(
            f"--init-from {source.path}: its text preprocessing differs ({'; '.join(differences)}); "
            "pass --model-arg values that match it"
        )
    if theirs.get("sequence_length") != ours.get("sequence_length"):
        # The source's vocabulary, packed to this run's length (BERT pretrains at 128, then 256).
        config = {**source.preprocessor.get_config(), "sequence_length": ours["sequence_length"]}
        return type(source.preprocessor).from_config(config)
    return source.preprocessor


def _described(source):
    """What made `source`, in words: 'a bert_mlm (masked_lm) model', or 'it' if unknown."""
    summary = source.summary
    return f"a {summary.model} ({summary.task}) model" if summary else "it"


FREEZE_BELOW_EXAMPLES = 5000  # labelled training examples under which copied word vectors are frozen


def is_word_vectors(source):
    """Whether `source` is a `word2vec` run or preset."""
    return source.summary is not None and source.summary.task == "word2vec"


def _makes_token_ids(preprocessor):
    if isinstance(preprocessor, keras.layers.TextVectorization):
        return preprocessor.get_config()["output_mode"] == "int"
    return isinstance(preprocessor, BertInputs)


def word_level_models():
    """The registered models whose preprocessor makes word ids: those word vectors can start."""
    specs = [get_model_spec(name) for name in list_models()]
    return [spec.name for spec in specs
            if spec.preprocessor and _makes_token_ids(spec.make_preprocessor(spec.default_args()))]


def copy_word_vectors(source, model, vocabulary, labelled_examples):
    """Copies the source's word vectors into `model`'s token embedding (its widest `Embedding`),
    the row of each word of `vocabulary` (the run's, by token id) that the vectors hold, frozen
    when `labelled_examples` are few; returns what was copied, for summary.json. None copied is
    a `UserError`."""
    vectors = source.layers["token_embedding"].get_weights()[0]
    source_ids = {str(token): index for index, token in enumerate(source.preprocessor.get_vocabulary())}
    embeddings = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.Embedding)]
    if not embeddings:
        raise UserError(f"--init-from {source.path}: {model.name} has no token embedding to start from word vectors")
    target = max(embeddings, key=lambda layer: layer.input_dim)
    matrix = keras.ops.convert_to_numpy(target.embeddings).copy()
    width = matrix.shape[1]
    if width > vectors.shape[1]:
        raise UserError(f"--init-from {source.path}: its vectors are {vectors.shape[1]} wide, {model.name}'s embedding "
                        f"{width}; build it at most {vectors.shape[1]} wide")
    rows = [(index, source_ids[str(token)]) for index, token in enumerate(vocabulary)
            if index < len(matrix) and str(token) not in ("", "[UNK]") and str(token) in source_ids]
    if not rows:
        raise UserError(f"--init-from {source.path}: none of the {len(vocabulary):,} words of this run's vocabulary "
                        "has a vector there; train from scratch, or pretrain vectors on text like this")
    ours, theirs = np.array(rows).T
    matrix[ours] = principal_components(vectors, width)[theirs]
    target.embeddings.assign(matrix)
    target.trainable = labelled_examples >= FREEZE_BELOW_EXAMPLES
    print(f"Initialized {target.name} from {source.path}: {len(rows):,} of its {len(vocabulary):,} words' vectors")
    return {"source": str(source.path), "copied_layers": [target.name], "copied_rows": len(rows),
            "vocabulary_rows": len(vocabulary),
            "projected": None if width == vectors.shape[1] else f"{vectors.shape[1]} -> {width} dimensions (PCA)",
            "frozen": not target.trainable}


def principal_components(vectors, width):
    """`vectors` projected onto their `width` principal components (themselves when as wide),
    centred first: the directions along which words differ most."""
    if width == vectors.shape[1]:
        return vectors
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    return centred @ components[:width].T


def copy_weights(source, model):
    """Copies the source's weights into `model`'s matching layers; returns the names of the
    layers copied and of those left as initialised."""
    targets = sources.keyed_layers(model.layers)
    output_key = list(targets)[-1]
    copied, fresh, mismatched = [], [], []
    for key, layer in targets.items():
        match = source.layers.get(key)
        if match is None:
            fresh.append(layer.name)
        elif _shapes(match) == _shapes(layer):
            layer.set_weights(match.get_weights())
            copied.append(layer.name)
        elif key == output_key:
            fresh.append(layer.name)  # another class count: a new head
        else:
            mismatched.append(f"{layer.name} ({_first_difference(match, layer)})")
    if mismatched:
        raise UserError(
            f"--init-from {source.path}: layers differ in shape: {', '.join(mismatched)}; "
            "build the model with the source's --model-arg values"
        )
    if not copied:
        raise UserError(
            f"--init-from {source.path}: no layer matches {model.name}'s "
            f"({', '.join(sorted(source.layers))} there); pick a run of a model like this one"
        )
    return copied, fresh


def _shapes(layer):
    return [tuple(weight.shape) for weight in layer.weights]


def _first_difference(source_layer, layer):
    if len(source_layer.weights) != len(layer.weights):
        return f"{len(source_layer.weights)} weights there, {len(layer.weights)} here"
    for theirs, ours in zip(source_layer.weights, layer.weights):
        if tuple(theirs.shape) != tuple(ours.shape):
            return f"{ours.path} {tuple(theirs.shape)} there, {tuple(ours.shape)} here"


def _settings(preprocessor):
    """What a preprocessor is built with, less its name, what adapting learns and how it splits
    texts into words: the source's preprocessor is used as it is, with its own splitting."""
    config = {"class": type(preprocessor).__name__, **preprocessor.get_config()}
    learnt = ("name", "vocabulary", "idf_weights", "standardize")
    if isinstance(preprocessor, keras.layers.TextVectorization):
        learnt += ("vocabulary_size",)  # the adapted vocabulary's; max_tokens is the setting
    return {name: value for name, value in config.items() if name not in learnt}
