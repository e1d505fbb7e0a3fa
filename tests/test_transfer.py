"""--init-from: a pretraining run's encoder and vocabulary (or a finished run's layers) start a new
run; layers are matched by name, and what does not match is a one-line error."""

import json
import shutil

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow_datasets as tfds
from conftest import TINY_MODEL_ARGS, train_tiny

import train
import zoo
from zoo import training
from zoo.config import TrainConfig
from zoo.store import records, sources
from zoo.tasks.base import inference_model
from zoo.training import transfer


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A finished tiny bert_mlm run on mock data."""
    model_dir = tmp_path_factory.mktemp("pretrained") / "bert_mlm"
    train_tiny("bert_mlm", model_dir)
    return model_dir


def test_the_pretrained_encoder_is_copied_and_the_head_left_new(pretrained):
    source = transfer.load_source(pretrained)
    assert source.path == pretrained / sources.RUN_PRESET  # the run's keras-hub preset
    model = zoo.build_model("bert_text", num_classes=2, **TINY_MODEL_ARGS["bert_text"])
    embeddings_before = model.backbone.token_embedding.embeddings.numpy()
    head_before = model.get_layer("logits").kernel.numpy()

    copied, fresh = transfer.copy_weights(source, model)

    assert [name.startswith("bert_backbone") for name in copied] == [True] and fresh == ["logits"]
    pretrained_model = keras.saving.load_model(pretrained / "model.keras", compile=False)
    assert not np.array_equal(model.backbone.token_embedding.embeddings.numpy(), embeddings_before)
    for ours, theirs in zip(model.backbone.weights, pretrained_model.backbone.weights, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=ours.path)
    np.testing.assert_array_equal(model.get_layer("logits").kernel.numpy(), head_before)


def test_a_run_from_a_pretraining_run_takes_its_vocabulary_and_is_itself_a_source(pretrained, tmp_path):
    # A preset whose vocabulary no adapting would give: its words in reverse order.
    preset = tmp_path / "preset"
    shutil.copytree(pretrained / sources.RUN_PRESET, preset)
    config = json.loads((preset / sources.PRESET_PREPROCESSOR).read_text())
    vocabulary = config["config"]["vocabulary"]
    vocabulary[5:] = vocabulary[:4:-1]
    (preset / sources.PRESET_PREPROCESSOR).write_text(json.dumps(config))

    summary = train_tiny("bert_text", tmp_path / "fine_tuned", init_from=str(preset))
    assert summary.hyperparameters["init_from"] == str(preset)
    assert summary.init_from == {"source": str(preset), "copied_layers": summary.init_from["copied_layers"],
                                    "new_layers": ["logits"]}
    fine_tuned = transfer.load_source(tmp_path / "fine_tuned")  # a classification run dir
    assert fine_tuned.preprocessor.get_vocabulary() == vocabulary
    assert transfer.load_source(pretrained).preprocessor.get_vocabulary() != vocabulary

    model = zoo.build_model("bert_text", num_classes=2, **TINY_MODEL_ARGS["bert_text"])
    copied, fresh = transfer.copy_weights(fine_tuned, model)
    assert len(copied) == 2 and fresh == []  # the same class count: the head too


def test_layers_with_generated_names_match_by_class_and_order_and_a_new_class_count_gets_a_new_head(tmp_path):
    source_model = zoo.build_model("mnist_cnn", num_classes=10, input_shape=(28, 28, 1), filters=4)
    inference_model(source_model).save(tmp_path / "model.keras")
    model = zoo.build_model("mnist_cnn", num_classes=3, input_shape=(28, 28, 1), filters=4)
    assert {layer.name for layer in model.layers} != {layer.name for layer in source_model.layers}

    copied, fresh = transfer.copy_weights(transfer.load_source(tmp_path), model)

    weighted = [layer for layer in model.layers if layer.weights]
    assert copied == [layer.name for layer in weighted[:-1]] and fresh == [weighted[-1].name]
    for ours, theirs in zip(model.weights[:-2], source_model.weights[:-2], strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=ours.path)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model", "bert_text", "--init-from", "{tmp}/nothing"], "not a finished run dir (no model.keras)"),
        (["--model", "bert_text", "--init-from", "{tmp}/truncated"], "truncated holds a damaged run (model.keras: "),
        (["--model", "bert_text", "--init-from", "{pretrained}", "--model-arg", "hidden_dim=16"],
         "layers differ in shape: bert_backbone"),
        (["--model", "bert_text", "--init-from", "{pretrained}", "--model-arg", "vocabulary_size=300"],
         "its text preprocessing differs (vocabulary_size=200 there, 300 here)"),
        (["--model", "bert_text", "--init-from", "{pretrained}", "--model-arg", "sequence_length=300"],
         "layers differ in shape: bert_backbone"),  # beyond the source's 256 positions
        (["--model", "mnist_cnn", "--init-from", "{pretrained}"],
         "a bert_mlm (masked_lm) model holds no layers that mnist_cnn can start from; start from a run or preset of mnist_cnn"),
        (["--model", "lstm_text", "--init-from", "{pretrained}"],
         "a bert_mlm (masked_lm) model reads text with BertInputs, lstm_text with TextVectorization, whatever its "
         "--model-arg values; start from a run or preset of lstm_text"),
        (["--model", "transformer_text", "--init-from", "gpt_text"],
         "a gpt_text (causal_lm) model holds no layers that transformer_text can start from"),
    ],
)
def test_a_bad_init_from_is_a_one_line_error_and_writes_nothing(capsys, pretrained, tmp_path, argv, message):
    tiny_args = [arg for key, value in TINY_MODEL_ARGS[argv[1]].items()
                 for arg in ("--model-arg", f"{key}={value!r}")]  # argv's own --model-arg wins
    (tmp_path / "truncated").mkdir()
    (tmp_path / "truncated" / "model.keras").write_bytes((pretrained / "model.keras").read_bytes()[:2000])
    argv = [arg.format(tmp=tmp_path, pretrained=pretrained) for arg in argv]
    with tfds.testing.mock_data(num_examples=16):
        code = train.main([*tiny_args, *argv, "--batch-size", "8", "--model-dir", str(tmp_path / "run")])
    stderr = capsys.readouterr().err
    assert code == 2 and stderr.startswith("train.py: error: --init-from ") and message in stderr
    assert stderr.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_the_preset_folder_is_keras_hubs_with_the_vocabulary_beside(pretrained):
    preset = pretrained / sources.RUN_PRESET
    backbone = keras_hub.models.BertBackbone.from_preset(str(preset))  # keras-hub alone loads it
    assert backbone.vocabulary_size == TINY_MODEL_ARGS["bert_mlm"]["vocabulary_size"]
    config = json.loads((preset / sources.PRESET_PREPROCESSOR).read_text())
    assert config["config"]["vocabulary"][:5] == ["", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def test_continued_pretraining_starts_from_the_encoder_and_head_and_counts_on_from_its_steps(pretrained, tmp_path):
    first = records.RunSummary.read(pretrained / "summary.json")
    steps_before = first.hyperparameters["epochs"] * first.hyperparameters["steps_per_epoch"]
    assert [piece["steps"] for piece in first.training_pieces] == [steps_before] and steps_before > 0

    summary = train_tiny("bert_mlm", tmp_path / "continued", init_from=str(pretrained), max_steps=3)

    assert "mlm_head" in summary.init_from["copied_layers"] and summary.init_from["new_layers"] == []
    assert [piece["steps"] for piece in summary.training_pieces] == [steps_before, 3]
    assert summary.training_pieces[0] == first.training_pieces[0]
    continued = keras_hub.models.MaskedLM.from_preset(str(tmp_path / "continued" / sources.RUN_PRESET))
    assert continued.get_layer("mlm_head").weights  # the head is in the preset, as keras-hub saves a task


def test_a_summary_from_before_pieces_were_recorded_counts_as_one_piece(tmp_path):
    old = {"model": "bert_mlm", "dataset": "imdb_reviews", "modality": "text", "task": "masked_lm", "examples": {},
           "parameters": 3_042_976, "wall_time_seconds": 4385.6, "hyperparameters": {
               "epochs": 1, "steps_per_epoch": 2187, "max_steps": 2500, "batch_size": 32,
               "model_args": {"sequence_length": 256}}}
    source = sources.Source(tmp_path, {}, None, records.RunSummary.from_dict(old))
    assert transfer.training_pieces(source, "bert_mlm") == [
        {"steps": 2187, "batch_size": 32, "sequence_length": 256, "wall_time_seconds": 4385.6}]
    assert transfer.training_pieces(source, "bert_text") == []  # fine-tuning starts its own count


def test_fine_tuning_at_another_sequence_length_packs_the_source_vocabulary_to_it(pretrained, tmp_path):
    longer = {**TINY_MODEL_ARGS["bert_text"], "sequence_length": 24}
    with tfds.testing.mock_data(num_examples=64):
        summary = training.train(TrainConfig(model="bert_text", model_dir=str(tmp_path / "longer"), epochs=1,
                                             batch_size=16, model_args=longer, init_from=str(pretrained)))
    assert summary.hyperparameters["model_args"]["sequence_length"] == 24
    model = keras.saving.load_model(tmp_path / "longer" / "model.keras", compile=False)
    preprocessor = next(layer for layer in model.layers if hasattr(layer, "get_vocabulary"))
    assert preprocessor.sequence_length == 24
    assert preprocessor.get_vocabulary() == transfer.load_source(pretrained).preprocessor.get_vocabulary()
