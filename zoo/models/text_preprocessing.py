"""The text models' preprocessors: layers made, unadapted, from the builder's arguments.
Training adapts one on the training split (`zoo.data`) and puts it in front of the model, so
the saved and exported models take raw strings; each keeps to core TensorFlow ops.

Every word-level preprocessor splits text with `standardize_words`: words as Keras splits them,
and each character of the scripts written without spaces (Chinese, Japanese) a word of its own.
"""

import keras
import keras_hub
import tensorflow as tf

# Keras' "lower_and_strip_punctuation": what English text has always been tokenized with.
ASCII_PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'
# Scripts written without spaces between words: each character is a token, as in BERT's basic
# tokenizer; word n-grams over them are then character n-grams, which is what works for Chinese.
UNSPACED_CHARACTER = r"([\p{Han}\p{Hiragana}\p{Katakana}])"


@keras.saving.register_keras_serializable(package="zoo")
def standardize_words(texts):
    """Lowercased texts, ASCII punctuation stripped (as Keras' default does), other punctuation
    (full-width ，。！？、 and the like, curly quotes) a space, and each Han, Hiragana or Katakana
    character spaced apart, so that whitespace splits them into tokens. Core TensorFlow ops
    (RE2) only, so an export of it serves with TensorFlow alone."""
    texts = tf.strings.regex_replace(tf.strings.lower(texts), ASCII_PUNCTUATION, "")
    texts = tf.strings.regex_replace(texts, r"\p{P}", " ")
    return tf.strings.regex_replace(texts, UNSPACED_CHARACTER, r" \1 ")


WORDS = {"standardize": standardize_words}  # how every word-level preprocessor splits texts

# The function words that say nothing of what a text is about (the Snowball list, as VAMPIRE
# drops them), apostrophes stripped as `standardize_words` strips them.
STOP_WORDS = (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers "
    "herself it its itself they them their theirs themselves what which who whom this that these those am is are "
    "was were be been being have has had having do does did doing would should could ought im youre hes shes its "
    "were theyre ive youve weve theyve id youd hed shed wed theyd ill youll hell shell well theyll isnt arent "
    "wasnt werent hasnt havent hadnt doesnt dont didnt wont wouldnt shant shouldnt cant cannot couldnt mustnt "
    "lets thats whos whats heres theres whens wheres whys hows a an the and but if or because as until while of at "
    "by for with about against between into through during before after above below to from up down in out on off "
    "over under again further then once here there when where why how all any both each few more most other some "
    "such no nor not only own same so than too very"
).split()


@keras.saving.register_keras_serializable(package="zoo")
def standardize_content_words(texts):
    """`standardize_words`, the `STOP_WORDS` (and IMDB's `<br />` line breaks) taken out: the
    words a bag-of-words topic model reads."""
    words = standardize_words(tf.strings.regex_replace(texts, r"<br\s*/?>", " "))
    return tf.strings.regex_replace(words, rf"\b({'|'.join(STOP_WORDS)})\b", " ")


KERAS_STANDARDIZE = "lower_and_strip_punctuation"  # what preprocessors saved before it used


def token_ids(vocabulary_size, sequence_length):
    """Token ids, padded or truncated on the right to `sequence_length`; 0 is padding, 1 unknown."""
    return keras.layers.TextVectorization(
        max_tokens=vocabulary_size, output_sequence_length=sequence_length, name="text_vectorizer", **WORDS
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
        **WORDS,
    )


def word_counts(vocabulary_size):
    """A sparse vector of how often each of the `vocabulary_size` most frequent content words
    occurs in a text (index 0 counts unknown ones): a bag of words, as a topic model reads it."""
    return keras.layers.TextVectorization(
        max_tokens=vocabulary_size,
        output_mode="count",
        pad_to_max_tokens=True,
        sparse=True,
        standardize=standardize_content_words,
        name="text_vectorizer",
    )


@keras.saving.register_keras_serializable(package="zoo")
class WithDocumentFeatures(keras.layers.Layer):
    """A text preprocessor's token ids beside a pretrained model's features of each text (a
    `vampire` run's texts-to-features model, `train.py --features-from`), as a model built with
    `document_features` takes them: {"token_ids", "document_features"}. The features model is
    frozen: it is preprocessing, as VAMPIRE's own classifiers read its features."""

    def __init__(self, preprocessor, features, **kwargs):
        super().__init__(**kwargs)
        self.preprocessor = preprocessor
        self.features = features
        self.features.trainable = False
        self.width = self.features.output_shape[-1]

    def get_vocabulary(self):
        return self.preprocessor.get_vocabulary()

    def build(self, input_shape=None):
        pass  # both parts are built: an adapted preprocessor and a trained model

    def call(self, texts):
        return {"token_ids": self.preprocessor(texts), "document_features": self.features(texts)}

    def get_config(self):
        return {**super().get_config(), "preprocessor": keras.saving.serialize_keras_object(self.preprocessor),
                "features": keras.saving.serialize_keras_object(self.features)}

    @classmethod
    def from_config(cls, config):
        parts = {name: keras.saving.deserialize_keras_object(config[name]) for name in ("preprocessor", "features")}
        return cls(**{**config, **parts})


SPECIAL_TOKENS = ("[CLS]", "[SEP]", "[MASK]")  # ids 2, 3, 4: after padding "" (0) and "[UNK]" (1)


def vocabulary_lookup(vocabulary, vocabulary_size, special_tokens, **options):
    """A ragged `TextVectorization` over `vocabulary`, or, without one, to adapt, with room left
    for `special_tokens`, which `adapted_lookup` puts at ids 2, 3, ...: after padding "" (0) and
    "[UNK]" (1), so their ids do not depend on the data. `options` say how texts are split."""
    if vocabulary is None:
        return keras.layers.TextVectorization(
            max_tokens=vocabulary_size - len(special_tokens), ragged=True, **options
        )
    return keras.layers.TextVectorization(vocabulary=list(vocabulary), ragged=True, **options)


def adapted_lookup(lookup, texts, vocabulary_size, special_tokens, **options):
    """`lookup` (from `vocabulary_lookup`) adapted on `texts`, the special tokens inserted."""
    lookup.adapt(texts)
    tokens = [str(token) for token in lookup.get_vocabulary()]
    return vocabulary_lookup(tokens[:2] + list(special_tokens) + tokens[2:], vocabulary_size, special_tokens, **options)


@keras.saving.register_keras_serializable(package="zoo")
class BertInputs(keras.layers.Layer):
    """Strings to a keras-hub BERT backbone's inputs, on core TensorFlow ops: lowercased words
    as ids between [CLS] and [SEP], padded or cut to `sequence_length`, with the padding mask
    and segment ids (all 0: one segment).

    A `TextVectorization` word vocabulary (with the special tokens added) stands in for
    keras-hub's WordPiece tokenizer, whose TensorFlow Text ops `tf.saved_model.load` cannot run
    without `import tensorflow_text`. `adapt` learns the vocabulary; `vocabulary` restores one.
    """

    def __init__(self, vocabulary_size, sequence_length, vocabulary=None, standardize=KERAS_STANDARDIZE, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        # A config saved before the zoo split unspaced scripts names none: it keeps Keras' default.
        if isinstance(standardize, dict):  # a callable, as a config holds it
            standardize = keras.saving.deserialize_keras_object(standardize)
        self._words_options = {"standardize": standardize}
        self._words = self._vectorizer(vocabulary)
        self._packer = keras_hub.layers.StartEndPacker(
            sequence_length,
            start_value=self.token_id("[CLS]"),
            end_value=self.token_id("[SEP]"),
            pad_value=0,
            return_padding_mask=True,
        )

    def _vectorizer(self, vocabulary):
        return vocabulary_lookup(vocabulary, self.vocabulary_size, SPECIAL_TOKENS, **self._words_options)

    @staticmethod
    def token_id(token):
        return 2 + SPECIAL_TOKENS.index(token)

    def adapt(self, texts):
        """Learns the vocabulary from `texts`, a dataset of string batches."""
        self._words = adapted_lookup(self._words, texts, self.vocabulary_size, SPECIAL_TOKENS, **self._words_options)

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
            "standardize": keras.saving.serialize_keras_object(self._words_options["standardize"]),
        }


def bert_inputs(vocabulary_size, sequence_length):
    """`BertInputs`, to adapt."""
    return BertInputs(vocabulary_size, sequence_length, name="text_vectorizer", **WORDS)


END_OF_TEXT = "<|endoftext|>"  # GPT-2's marker between texts: it starts and ends each one here
CHARACTERS = {"split": "character", "standardize": None}  # case, punctuation and spaces kept
UNKNOWN_CHARACTER = "\ufffd"


@keras.saving.register_keras_serializable(package="zoo")
class CharacterTokenizer(keras_hub.tokenizers.Tokenizer):
    """Texts to character ids and back, on core TensorFlow ops, for keras-hub's causal LMs.

    The vocabulary is a `TextVectorization` one, as for the word models, but over characters,
    case and punctuation kept: generated text reads as written, nothing is out of vocabulary
    but the rarest characters, and bits per character are the model's own loss. Padding is 0,
    unknown 1 (detokenized as U+FFFD), `END_OF_TEXT` 2 (start and end token, as in GPT-2).
    """

    def __init__(self, vocabulary_size, vocabulary=None, **kwargs):
        super().__init__(**kwargs)
        self.max_tokens = vocabulary_size
        self._characters = vocabulary_lookup(vocabulary, vocabulary_size, [END_OF_TEXT], **CHARACTERS)
        self._vocabulary = [str(token) for token in self._characters.get_vocabulary()]
        self._add_special_token(END_OF_TEXT, "start_token")
        self._add_special_token(END_OF_TEXT, "end_token")
        self._add_special_token("", "pad_token")

    def adapt(self, texts):
        """Learns the vocabulary from `texts`, a dataset of string batches."""
        self._characters = adapted_lookup(self._characters, texts, self.max_tokens, [END_OF_TEXT], **CHARACTERS)
        self._vocabulary = [str(token) for token in self._characters.get_vocabulary()]
        self._update_special_token_ids()

    def get_vocabulary(self):
        """The characters by id, held as a list: detokenizing runs inside traced functions,
        where the lookup table cannot be read back."""
        return self._vocabulary

    def vocabulary_size(self):
        return len(self._vocabulary)

    def token_to_id(self, token):
        return self.get_vocabulary().index(token)

    def id_to_token(self, id):
        return self.get_vocabulary()[id]

    def tokenize(self, inputs):
        return tf.cast(self._characters(inputs), "int32")

    def detokenize(self, inputs):
        """Ids (dense or ragged, the last axis a text) to strings, one character per id: an
        unknown one, or an id the data left unused (the vocabulary can be smaller than
        `vocabulary_size`), reads as U+FFFD, the replacement character; `END_OF_TEXT` as named.
        Tensors give a string tensor; Python lists (keras-hub's eager workflow, as `generate()`
        runs) give Python `str`s, as keras-hub's own tokenizers do."""
        ids = inputs
        python = not isinstance(ids, (tf.Tensor, tf.RaggedTensor))
        if python:
            ids = tf.ragged.constant(ids, dtype=tf.int32)
        unused = max(self.max_tokens - len(self._vocabulary), 0)
        tokens = tf.constant(["", UNKNOWN_CHARACTER, *self._vocabulary[2:]] + [UNKNOWN_CHARACTER] * unused)
        texts = tf.strings.reduce_join(tf.gather(tokens, ids), axis=-1)
        if not python:
            return texts
        texts = texts.numpy()
        return texts.decode() if texts.ndim == 0 else [text.decode() for text in texts]

    def build(self, input_shape=None):
        pass  # the vocabulary is a lookup table, not weights

    def get_config(self):
        vocabulary = self._vocabulary if len(self._vocabulary) > 2 else None
        return {**super().get_config(), "vocabulary_size": self.max_tokens, "vocabulary": vocabulary}


@keras.saving.register_keras_serializable(package="zoo")
class CharacterCausalLMPreprocessor(keras_hub.models.CausalLMPreprocessor):
    """keras-hub's causal-LM preprocessing over a `CharacterTokenizer`: a text's first
    `sequence_length` tokens (`END_OF_TEXT` first) in, the same shifted by one as targets.
    Built from its vocabulary like the zoo's other text preprocessors, so `zoo.data` adapts it."""

    def __init__(self, vocabulary_size, sequence_length, vocabulary=None, **kwargs):
        kwargs.pop("tokenizer", None)  # rebuilt from the vocabulary
        super().__init__(CharacterTokenizer(vocabulary_size, vocabulary), sequence_length, **kwargs)
        self.vocabulary_size = vocabulary_size

    def adapt(self, texts):
        self.tokenizer.adapt(texts)

    def get_vocabulary(self):
        return self.tokenizer.get_vocabulary()

    def get_config(self):
        config = {**super().get_config(), "vocabulary_size": self.vocabulary_size}
        config["vocabulary"] = self.tokenizer.get_config()["vocabulary"]
        for name in ("tokenizer", "add_start_token", "add_end_token", "config_file"):
            config.pop(name, None)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def character_causal_lm_inputs(vocabulary_size, sequence_length):
    """`CharacterCausalLMPreprocessor`, to adapt."""
    return CharacterCausalLMPreprocessor(vocabulary_size, sequence_length, name="text_vectorizer")
