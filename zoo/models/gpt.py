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
    preset_files={  # presets/gpt_text/, made by benchmarks/publish_presets.py
        "README.md": "200fcb445bb49f713e131930a6ae0babb5b040d93ea95a44742374fc07f9dc33",
        "model.keras": "7fe9ada6de085d75530cb943ebd4c8f241dd26a3b55dc103f038164bf891364d",
        "preset.json": "14390821b1fc444b9630584617b8665448796991affe6deb4a2bd8965c9c9ab9",
        "summary.json": "27ba31c56d04fee08f7646c58d79e2b677d3e1734861acdab4990c84ce602c12",
    },
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
