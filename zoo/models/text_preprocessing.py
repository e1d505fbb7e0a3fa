"""The text models' preprocessors: `TextVectorization` layers, unadapted, made from the builder's
arguments. Training adapts one on the training split (`zoo.data`) and puts it in front of the
model, so the saved and exported models take raw strings; each keeps to core TensorFlow ops."""

import keras


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
