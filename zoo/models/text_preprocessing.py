"""The text models' preprocessors: layers made, unadapted, from the builder's arguments.
Training adapts one on the training split (`zoo.data`) and puts it in front of the model, so
the saved and exported models take raw strings; each keeps to core TensorFlow ops."""

import keras
import keras_hub


def token_ids(vocabulary_size, sequence_length):
    """Token ids, padded or truncated on the right to `sequence_length`; 0 is padding, 1 unknown."""
    return keras.layers.TextVectorization(
        max_tokens=vocabulary_size, output_sequence_length=sequence_length, name="text_vectorizer"
    )


def ngram_bag(vocabulary_size, ngrams):
    """A sparse multi-hot vector over the `vocabulary_size` most frequent n-grams up to length
    `ngrams` (index 0 marks unknown ones): word order within n words, nothing beyond."""
    return keras.layers.TextVectorization(
        max_tokens=vocabulary_size,
        ngrams=ngrams,
        output_mode="multi_hot",
        pad_to_max_tokens=True,  # the model's input width, however few n-grams the data holds
        sparse=True,
        name="text_vectorizer",
    )


SPECIAL_TOKENS = ("[CLS]", "[SEP]", "[MASK]")  # ids 2, 3, 4: after padding "" (0) and "[UNK]" (1)


@keras.saving.register_keras_serializable(package="zoo")
class BertInputs(keras.layers.Layer):
    """Strings to a keras-hub BERT backbone's inputs, on core TensorFlow ops: lowercased words
    as ids between [CLS] and [SEP], padded or cut to `sequence_length`, with the padding mask
    and segment ids (all 0: one segment).

    A `TextVectorization` word vocabulary (with the special tokens added) stands in for
    keras-hub's WordPiece tokenizer, whose TensorFlow Text ops `tf.saved_model.load` cannot run
    without `import tensorflow_text`. `adapt` learns the vocabulary; `vocabulary` restores one.
    """

    def __init__(self, vocabulary_size, sequence_length, vocabulary=None, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self._words = self._vectorizer(vocabulary)
        self._packer = keras_hub.layers.StartEndPacker(
            sequence_length,
            start_value=self.token_id("[CLS]"),
            end_value=self.token_id("[SEP]"),
            pad_value=0,
            return_padding_mask=True,
        )

    def _vectorizer(self, vocabulary):
        if vocabulary is None:  # to adapt: room left for the special tokens
            return keras.layers.TextVectorization(
                max_tokens=self.vocabulary_size - len(SPECIAL_TOKENS), ragged=True
            )
        return keras.layers.TextVectorization(vocabulary=list(vocabulary), ragged=True)

    @staticmethod
    def token_id(token):
        return 2 + SPECIAL_TOKENS.index(token)

    def adapt(self, texts):
        """Learns the vocabulary from `texts`, a dataset of string batches."""
        self._words.adapt(texts)
        words = [str(word) for word in self._words.get_vocabulary()]
        self._words = self._vectorizer(words[:2] + list(SPECIAL_TOKENS) + words[2:])

    def get_vocabulary(self):
        return self._words.get_vocabulary()

    def build(self, input_shape=None):
        pass  # the sublayers hold no weights: the vocabulary is a lookup table

    def call(self, texts):
        token_ids, padding_mask = self._packer(self._words(texts))
        return {
            "token_ids": token_ids,
            "padding_mask": padding_mask,
            "segment_ids": keras.ops.zeros_like(token_ids),
        }

    def get_config(self):
        vocabulary = self.get_vocabulary() if self._words.vocabulary_size() > 2 else None
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "sequence_length": self.sequence_length,
            "vocabulary": vocabulary,
        }


def bert_inputs(vocabulary_size, sequence_length):
    """`BertInputs`, to adapt."""
    return BertInputs(vocabulary_size, sequence_length, name="text_vectorizer")
