"""A mini GPT from keras-hub, sized for a CPU: a decoder-only language model over characters."""

import keras_hub

from zoo.models import text_preprocessing
from zoo.registry import register_model


@register_model(
    "gpt_text",
    modality="text",
    task="causal_lm",
    dataset="imdb_reviews",
    # The training and unlabelled reviews (their first 255 characters each); held out: 2,500
    # unlabelled ones and 2,500 test ones.
    train_split="train+unsupervised[:95%]",
    validation_split="unsupervised[95%:]",
    test_split="test[:10%]",
    serving_input="text",
    preprocessor=text_preprocessing.character_causal_lm_inputs,
    epochs=1,  # about 35 minutes on 2 CPU cores
    batch_size=32,
    optimizer="adamw",
    learning_rate=2e-3,  # nanoGPT's rate for its small character-level model is 1e-3
    weight_decay=1e-1,
    jit_compile=True,  # XLA: 2.2x the training examples/s of plain TensorFlow on 2 CPU cores
)
def gpt_text(
    vocabulary_size=256,
    sequence_length=256,
    num_layers=4,
    num_heads=4,
    hidden_dim=128,
    intermediate_dim=512,
    dropout=0.0,
):
    """A mini GPT (keras-hub `GPT2CausalLM`) that writes reviews one character at a time; its
    outputs are next-character logits."""
    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=vocabulary_size,
        num_layers=num_layers,
        num_heads=num_heads,
        hidden_dim=hidden_dim,
        intermediate_dim=intermediate_dim,
        dropout=dropout,
        max_sequence_length=sequence_length,
    )
    return keras_hub.models.GPT2CausalLM(backbone, compile=False, name="gpt_text")
