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
    preset_files={  # presets/bert_text/, made by benchmarks/publish_presets.py
        "README.md": "8c891c73a0e4972f73b6f8eace67f4f2f9b0bea6c84d399dd667c112b000efc5",
        "confusion_matrix.png": "5d97bb66c725cca7983f63b62f96d444aa39cb529a2afa992604dc655e648c7a",
        "evaluation.json": "a7817258d15d42977bdfd4e515cc67042ce7f89e6ff46ce45fe80adee3868bfc",
        "model.keras": "9bb1e0ffcf4ff5679982404505eba39f32d52d3b66682bcf9d0da050117fd006",
        "preset.json": "a555ef77d43fcd799819e3de15a54dd0625096b4618f97362b58805921a826c1",
        "summary.json": "32b32052e727ae7635c5d085d238fd1938417f01a03b43fe0c146cf384f2f71b",
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
    preset_files={  # presets/bert_mlm/ (the masked LM as keras-hub saves it), made by benchmarks/publish_presets.py
        "README.md": "b5810fc33ea96f6da819f028e6dfac043e4549936587817c94eea05710954c5c",
        "config.json": "e7e082c7041a751b435d833eafb0c72975a5dad8d0b02a4d4f856c4608db2036",
        "metadata.json": "ff637aa3cd8f29873880446a5caab65cb937422ae29b058758447f1b1768d00d",
        "model.weights.h5": "b7e60b171043cc65c5e50ad263d736ac4bf1fead7597dec1aed3faa082ec9e59",
        "preset.json": "cec07084454c4c2e6387799415cfe53deb936b4041fc833de1786b367aa1563f",
        "summary.json": "fcb2a05770bf65ecea38b48e3e9095e11302232a8071c29f01829e46f23aba33",
        "task.json": "602fe652a677a66f15f45f4225f194e97ad985491bbe551ac33ff50f43b36369",
        "task.weights.h5": "e43d23df3e4b125443e3fb9bf37fa4c5e463464af4c84714742e37b0dae1204f",
        "text_preprocessor.json": "90e862ce8de6c4260dd3b045df0de24cae5b3d8b767153ba17ef33ee23f493f1",
    },
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
