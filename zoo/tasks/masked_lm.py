"""Masked language modelling, BERT's pretraining: 15% of each text's tokens are picked (80% of
those replaced by [MASK], 10% by a random token, 10% kept) and the model predicts the originals.
Loss and accuracy count the picked positions only: the labels are the texts themselves."""

import dataclasses

import keras_hub
import tensorflow as tf

from zoo.models.text_preprocessing import BertInputs
from zoo.store import sources
from zoo.tasks.base import Task, compile_token_predictions

MASK_RATE = 0.15


class MaskedLM(Task):
    monitor = "val_accuracy"
    exportable = False  # a pretrained encoder is fine-tuned (--init-from), not served

    def load_data(self, spec, settings, config, preprocessor=None):
        """Texts from the splits the spec names (labels unused), masked anew on every pass."""
        datasets = super().load_data(spec, settings, config, preprocessor)
        model_args = settings["model_args"]
        masker = mask_generator(model_args["vocabulary_size"], model_args["sequence_length"])
        masked = {
            split: getattr(datasets, split).map(lambda inputs, labels: masked_batch(masker, inputs),
                                                num_parallel_calls=tf.data.AUTOTUNE)
            for split in ("train", "validation", "test") if getattr(datasets, split) is not None
        }
        return dataclasses.replace(datasets, **masked)

    def compile(self, model, optimizer, jit_compile=False):
        # Means over the picked positions (weight 1): slots beyond a short text's picks weigh 0.
        compile_token_predictions(model, optimizer, jit_compile)

    def saved_model(self, model, datasets):
        """The masked LM itself (keras-hub's class, its head tied to the token embedding)."""
        return model

    def save(self, model, datasets, model_dir):
        """`model.keras`, and the masked LM with its vocabulary as a keras-hub preset folder: what
        `--init-from` starts a fine-tuning run (from the encoder) or more pretraining (from the
        encoder and the head) from."""
        saved = super().save(model, datasets, model_dir)
        sources.save_preset(model, datasets.preprocessor, model_dir / sources.RUN_PRESET)
        return saved

    def summary(self, datasets):
        return {"mask_rate": MASK_RATE, "vocabulary_size": len(datasets.preprocessor.get_vocabulary())}


def mask_generator(vocabulary_size, sequence_length):
    """keras-hub's BERT masking, never picking padding, [CLS] or [SEP]."""
    return keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=vocabulary_size,
        mask_selection_rate=MASK_RATE,
        mask_token_id=BertInputs.token_id("[MASK]"),
        mask_selection_length=max(1, round(MASK_RATE * sequence_length)),
        unselectable_token_ids=[0, BertInputs.token_id("[CLS]"), BertInputs.token_id("[SEP]")],
    )


def masked_batch(masker, inputs):
    """(inputs with masked token ids and the picked positions, original ids there, weights)."""
    masked = masker(inputs["token_ids"])
    features = {**inputs, "token_ids": masked["token_ids"], "mask_positions": masked["mask_positions"]}
    return features, masked["mask_ids"], masked["mask_weights"]


TASK = MaskedLM()
