import pytest

import zoo
from zoo import registry


@pytest.fixture
def scratch_registry(monkeypatch):
    """A copy of the registry, so tests can register models without leaking them."""
    registry.list_models()  # the builtin builders registered first, into the real registry
    monkeypatch.setattr(registry, "_registry", dict(registry._registry))


def tiny_builder(num_classes=2):
    """A builder that is never called."""


RECIPE = dict(
    modality="image", dataset="mnist", serving_input="image", epochs=1, batch_size=8,
    learning_rate=1e-3,
)


def test_the_three_core_models_are_registered():
    assert {"mnist_cnn", "lstm_text", "transformer_text"} <= set(zoo.list_models())


def test_list_models_filters_with_fnmatch_and_sorts():
    assert zoo.list_models("*text*") == [
        "bert_text", "embedding_bag_text", "gpt_text", "lstm_text", "ngram_text", "transformer_text"]
    assert zoo.list_models("mnist_*") == ["mnist_cnn", "mnist_cnn_fast", "mnist_cnn_small"]
    assert zoo.list_models("mnist_cnn") == ["mnist_cnn"]
    assert zoo.list_models("nothing*") == []
    assert zoo.list_models() == sorted(zoo.list_models())


def test_unknown_name_suggests_the_closest_and_how_to_list():
    with pytest.raises(zoo.UnknownModelError) as error:
        zoo.build_model("lstm_txt")
    message = str(error.value)
    assert "'lstm_txt'" in message and "'lstm_text'" in message
    assert "list_models" in message
    assert isinstance(error.value, LookupError) and not isinstance(error.value, KeyError)


def test_spec_carries_what_training_and_export_need():
    spec = zoo.get_model_spec("transformer_text")
    assert (spec.modality, spec.dataset, spec.serving_input) == ("text", "imdb_reviews", "text")
    assert spec.epochs > 0 and spec.batch_size > 0 and spec.learning_rate > 0
    assert spec.train_split == "train" and spec.test_split == "test"
    assert spec.default_args()["sequence_length"] == 512


def test_build_model_kwargs_override_defaults():
    model = zoo.build_model("transformer_text", vocabulary_size=50, sequence_length=8, num_classes=3)
    assert model.input_shape == (None, 8) and model.output_shape == (None, 3)


def test_unknown_builder_argument_names_the_valid_ones():
    with pytest.raises(zoo.UserError, match="no argument 'num_layer'.*num_layers"):
        zoo.build_model("lstm_text", num_layer=4)


def test_register_model_records_the_recipe(scratch_registry):
    zoo.register_model("tiny_model", **RECIPE)(tiny_builder)
    spec = zoo.get_model_spec("tiny_model")
    assert spec.builder is tiny_builder and spec.batch_size == 8
    assert spec.description == "A builder that is never called."
    assert "tiny_model" in zoo.list_models("tiny*")


def test_registering_a_name_twice_is_an_error(scratch_registry):
    zoo.register_model("tiny_model", **RECIPE)(tiny_builder)
    with pytest.raises(ValueError, match="already registered"):
        zoo.register_model("tiny_model", **RECIPE)(tiny_builder)


@pytest.mark.parametrize("name", ["Tiny", "1tiny", "tiny-model", "tiny model", "", "_tiny"])
def test_invalid_names_are_rejected(scratch_registry, name):
    with pytest.raises(ValueError, match="must match"):
        zoo.register_model(name, **RECIPE)(tiny_builder)
    assert name not in zoo.list_models()


def test_unknown_modality_is_rejected(scratch_registry):
    with pytest.raises(ValueError, match="modality"):
        zoo.register_model("tiny_model", **{**RECIPE, "modality": "audio"})(tiny_builder)
