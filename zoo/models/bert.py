"""BERT encoders from keras-hub, sized for a CPU, over a word vocabulary on core TensorFlow ops."""

import keras_hub

from zoo.models import text_preprocessing
from zoo.registry import register_model
from zoo.search_space import Choice, Float

POSITIONS = 256  # every encoder's position table: texts packed shorter (pretraining at 128) still fit `bert_text`


def bert_backbone(vocabulary_size, sequence_length, num_layers, num_heads, hidden_dim, intermediate_dim, dropout):
    """A keras-hub `BertBackbone`, its inputs those `text_preprocessing.BertInputs` makes, with
    position embeddings for at least `POSITIONS` tokens whatever length its texts are packed to."""
    return keras_hub.models.BertBackbone(
        vocabulary_size=vocabulary_size,
        num_layers=num_layers,
        num_heads=num_heads,
        hidden_dim=hidden_dim,
        intermediate_dim=intermediate_dim,
        dropout=dropout,
        max_sequence_length=max(sequence_length, POSITIONS),
        num_segments=1,
    )


@register_model(
    "bert_text",
    modality="text",
    dataset="imdb_reviews",
    serving_input="text",
    preprocessor=text_preprocessing.bert_inputs,
    epochs=1,  # about 10 min on 2 CPU cores; the same budget from scratch or fine-tuned
    batch_size=32,
    min_steps=703,  # one epoch of IMDB's 22,500 training reviews: small datasets train as long
    optimizer="adamw",
    learning_rate=2e-4,
    weight_decay=1e-2,
    search_space={
        "learning_rate": Float(5e-5, 1e-3, log=True),
        "weight_decay": Float(1e-3, 1e-1, log=True),
        "batch_size": Choice((16, 32, 64)),
        "dropout": Float(0.0, 0.3),
    },
)
def bert_text(
    vocabulary_size=20000,
    sequence_length=256,
    num_classes=2,
    num_layers=2,
    num_heads=2,
    hidden_dim=128,
    intermediate_dim=512,
    dropout=0.1,
):
    """A small BERT classifier (keras-hub `BertTextClassifier`): its [CLS] output into a softmax."""
    backbone = bert_backbone(
        vocabulary_size, sequence_length, num_layers, num_heads, hidden_dim, intermediate_dim, dropout
    )
    return keras_hub.models.BertTextClassifier(
        backbone, num_classes, activation="softmax", dropout=dropout, compile=False, name="bert_text"
    )


@register_model(
    "bert_mlm",
    modality="text",
    task="masked_lm",
    dataset="imdb_reviews",
    # Pretraining text: the unlabelled reviews and the training reviews, never the test ones.
    train_split="unsupervised[:90%]+train",
    validation_split="unsupervised[90%:95%]",
    test_split="unsupervised[95%:]",
    serving_input="text",
    preprocessor=text_preprocessing.bert_inputs,
    # BERT's schedule, made for a CPU (docs/benchmarks.md, the pretraining step): mostly 128-token
    # texts, then a short phase at 256 (--model-arg sequence_length=256); XLA; no dropout and
    # batches of 16k tokens, as the cramming recipe (Geiping & Goldstein 2022) pretrains.
    epochs=4,
    batch_size=128,
    jit_compile=True,
    optimizer="adamw",
    learning_rate=5e-4,  # a pretraining rate: keras-hub's MaskedLM default (5e-5) is for fine-tuning
    weight_decay=1e-2,
)
def bert_mlm(
    vocabulary_size=20000,
    sequence_length=128,
    num_layers=2,
    num_heads=2,
    hidden_dim=128,
    intermediate_dim=512,
    dropout=0.0,
):
    """The `bert_text` encoder pretrained as a masked LM (keras-hub `BertMaskedLM`): it predicts
    the masked tokens' ids; inputs add `mask_positions` to the backbone's."""
    backbone = bert_backbone(
        vocabulary_size, sequence_length, num_layers, num_heads, hidden_dim, intermediate_dim, dropout
    )
    return keras_hub.models.BertMaskedLM(backbone, compile=False, name="bert_mlm")
