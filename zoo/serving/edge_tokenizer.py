"""The text models' preprocessing in plain Python, for their LiteRT and ONNX exports, which take
token ids: the same ids (or n-gram multi-hot rows, or BERT inputs) as the in-graph preprocessors of
`zoo.models.text_preprocessing` make, read from the `preprocessing.json` written beside the model.
The standard library only: `zoo.export` copies this file into every text export as tokenizer.py.

    from tokenizer import Tokenizer
    tokenizer = Tokenizer.load("preprocessing.json")
    inputs = tokenizer(["A moving, funny film.", "很好看"])  # one row per text
"""

import bisect
import json
import re
import string

# Generated from TensorFlow's regex ops (RE2): each an inclusive code point range.
PUNCTUATION = (
    (0x21, 0x23), (0x25, 0x2A), (0x2C, 0x2F), (0x3A, 0x3B), (0x3F, 0x40), (0x5B, 0x5D),
    (0x5F, 0x5F), (0x7B, 0x7B), (0x7D, 0x7D), (0xA1, 0xA1), (0xA7, 0xA7), (0xAB, 0xAB),
    (0xB6, 0xB7), (0xBB, 0xBB), (0xBF, 0xBF), (0x37E, 0x37E), (0x387, 0x387), (0x55A, 0x55F),
    (0x589, 0x58A), (0x5BE, 0x5BE), (0x5C0, 0x5C0), (0x5C3, 0x5C3), (0x5C6, 0x5C6), (0x5F3, 0x5F4),
    (0x609, 0x60A), (0x60C, 0x60D), (0x61B, 0x61B), (0x61D, 0x61F), (0x66A, 0x66D), (0x6D4, 0x6D4),
    (0x700, 0x70D), (0x7F7, 0x7F9), (0x830, 0x83E), (0x85E, 0x85E), (0x964, 0x965), (0x970, 0x970),
    (0x9FD, 0x9FD), (0xA76, 0xA76), (0xAF0, 0xAF0), (0xC77, 0xC77), (0xC84, 0xC84), (0xDF4, 0xDF4),
    (0xE4F, 0xE4F), (0xE5A, 0xE5B), (0xF04, 0xF12), (0xF14, 0xF14), (0xF3A, 0xF3D), (0xF85, 0xF85),
    (0xFD0, 0xFD4), (0xFD9, 0xFDA), (0x104A, 0x104F), (0x10FB, 0x10FB), (0x1360, 0x1368),
    (0x1400, 0x1400), (0x166E, 0x166E), (0x169B, 0x169C), (0x16EB, 0x16ED), (0x1735, 0x1736),
    (0x17D4, 0x17D6), (0x17D8, 0x17DA), (0x1800, 0x180A), (0x1944, 0x1945), (0x1A1E, 0x1A1F),
    (0x1AA0, 0x1AA6), (0x1AA8, 0x1AAD), (0x1B5A, 0x1B60), (0x1B7D, 0x1B7E), (0x1BFC, 0x1BFF),
    (0x1C3B, 0x1C3F), (0x1C7E, 0x1C7F), (0x1CC0, 0x1CC7), (0x1CD3, 0x1CD3), (0x2010, 0x2027),
    (0x2030, 0x2043), (0x2045, 0x2051), (0x2053, 0x205E), (0x207D, 0x207E), (0x208D, 0x208E),
    (0x2308, 0x230B), (0x2329, 0x232A), (0x2768, 0x2775), (0x27C5, 0x27C6), (0x27E6, 0x27EF),
    (0x2983, 0x2998), (0x29D8, 0x29DB), (0x29FC, 0x29FD), (0x2CF9, 0x2CFC), (0x2CFE, 0x2CFF),
    (0x2D70, 0x2D70), (0x2E00, 0x2E2E), (0x2E30, 0x2E4F), (0x2E52, 0x2E5D), (0x3001, 0x3003),
    (0x3008, 0x3011), (0x3014, 0x301F), (0x3030, 0x3030), (0x303D, 0x303D), (0x30A0, 0x30A0),
    (0x30FB, 0x30FB), (0xA4FE, 0xA4FF), (0xA60D, 0xA60F), (0xA673, 0xA673), (0xA67E, 0xA67E),
    (0xA6F2, 0xA6F7), (0xA874, 0xA877), (0xA8CE, 0xA8CF), (0xA8F8, 0xA8FA), (0xA8FC, 0xA8FC),
    (0xA92E, 0xA92F), (0xA95F, 0xA95F), (0xA9C1, 0xA9CD), (0xA9DE, 0xA9DF), (0xAA5C, 0xAA5F),
    (0xAADE, 0xAADF), (0xAAF0, 0xAAF1), (0xABEB, 0xABEB), (0xFD3E, 0xFD3F), (0xFE10, 0xFE19),
    (0xFE30, 0xFE52), (0xFE54, 0xFE61), (0xFE63, 0xFE63), (0xFE68, 0xFE68), (0xFE6A, 0xFE6B),
    (0xFF01, 0xFF03), (0xFF05, 0xFF0A), (0xFF0C, 0xFF0F), (0xFF1A, 0xFF1B), (0xFF1F, 0xFF20),
    (0xFF3B, 0xFF3D), (0xFF3F, 0xFF3F), (0xFF5B, 0xFF5B), (0xFF5D, 0xFF5D), (0xFF5F, 0xFF65),
    (0x10100, 0x10102), (0x1039F, 0x1039F), (0x103D0, 0x103D0), (0x1056F, 0x1056F),
    (0x10857, 0x10857), (0x1091F, 0x1091F), (0x1093F, 0x1093F), (0x10A50, 0x10A58),
    (0x10A7F, 0x10A7F), (0x10AF0, 0x10AF6), (0x10B39, 0x10B3F), (0x10B99, 0x10B9C),
    (0x10EAD, 0x10EAD), (0x10F55, 0x10F59), (0x10F86, 0x10F89), (0x11047, 0x1104D),
    (0x110BB, 0x110BC), (0x110BE, 0x110C1), (0x11140, 0x11143), (0x11174, 0x11175),
    (0x111C5, 0x111C8), (0x111CD, 0x111CD), (0x111DB, 0x111DB), (0x111DD, 0x111DF),
    (0x11238, 0x1123D), (0x112A9, 0x112A9), (0x1144B, 0x1144F), (0x1145A, 0x1145B),
    (0x1145D, 0x1145D), (0x114C6, 0x114C6), (0x115C1, 0x115D7), (0x11641, 0x11643),
    (0x11660, 0x1166C), (0x116B9, 0x116B9), (0x1173C, 0x1173E), (0x1183B, 0x1183B),
    (0x11944, 0x11946), (0x119E2, 0x119E2), (0x11A3F, 0x11A46), (0x11A9A, 0x11A9C),
    (0x11A9E, 0x11AA2), (0x11B00, 0x11B09), (0x11C41, 0x11C45), (0x11C70, 0x11C71),
    (0x11EF7, 0x11EF8), (0x11F43, 0x11F4F), (0x11FFF, 0x11FFF), (0x12470, 0x12474),
    (0x12FF1, 0x12FF2), (0x16A6E, 0x16A6F), (0x16AF5, 0x16AF5), (0x16B37, 0x16B3B),
    (0x16B44, 0x16B44), (0x16E97, 0x16E9A), (0x16FE2, 0x16FE2), (0x1BC9F, 0x1BC9F),
    (0x1DA87, 0x1DA8B), (0x1E95E, 0x1E95F),
)

UNSPACED = (
    (0x2E80, 0x2E99), (0x2E9B, 0x2EF3), (0x2F00, 0x2FD5), (0x3005, 0x3005), (0x3007, 0x3007),
    (0x3021, 0x3029), (0x3038, 0x303B), (0x3041, 0x3096), (0x309D, 0x309F), (0x30A1, 0x30FA),
    (0x30FD, 0x30FF), (0x31F0, 0x31FF), (0x32D0, 0x32FE), (0x3300, 0x3357), (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF), (0xF900, 0xFA6D), (0xFA70, 0xFAD9), (0xFF66, 0xFF6F), (0xFF71, 0xFF9D),
    (0x16FE2, 0x16FE3), (0x16FF0, 0x16FF1), (0x1AFF0, 0x1AFF3), (0x1AFF5, 0x1AFFB),
    (0x1AFFD, 0x1AFFE), (0x1B000, 0x1B122), (0x1B132, 0x1B132), (0x1B150, 0x1B152),
    (0x1B155, 0x1B155), (0x1B164, 0x1B167), (0x1F200, 0x1F200), (0x20000, 0x2A6DF),
    (0x2A700, 0x2B739), (0x2B740, 0x2B81D), (0x2B820, 0x2CEA1), (0x2CEB0, 0x2EBE0),
    (0x2F800, 0x2FA1D), (0x30000, 0x3134A), (0x31350, 0x323AF),
)

# TensorFlow's ops, as the in-graph preprocessing runs them: `tf.strings.lower` lowers ASCII letters
# only, Keras strips ASCII punctuation, `tf.strings.split` splits on ASCII whitespace alone; RE2's
# \p{P}, and its Han, Hiragana and Katakana scripts, are the tables above (a test checks them
# against TensorFlow's regex ops, code point by code point).
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
ASCII_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
WHITESPACE = re.compile("[\t\n\v\f\r ]+")
PAD, UNKNOWN = 0, 1  # the token-id vocabularies' first two ids; a multi-hot vocabulary's 0 is unknown
MODES = ("token_ids", "multi_hot", "bert")
STANDARDIZE = ("words", "keras")  # zoo's words (unspaced scripts split), or Keras' default


def _member(table, starts, character):
    index = bisect.bisect_right(starts, ord(character)) - 1
    return index >= 0 and ord(character) <= table[index][1]


_PUNCTUATION_STARTS = [start for start, _ in PUNCTUATION]
_UNSPACED_STARTS = [start for start, _ in UNSPACED]


def standardize(text, how="words"):
    """`text` as the preprocessor's `standardize` leaves it: ASCII lowered, ASCII punctuation
    dropped and, for "words", other punctuation a space and each unspaced-script character spaced apart."""
    text = ASCII_PUNCTUATION.sub("", text.translate(ASCII_LOWER))
    if how == "keras":
        return text
    return "".join(" " if _member(PUNCTUATION, _PUNCTUATION_STARTS, character)
                   else f" {character} " if _member(UNSPACED, _UNSPACED_STARTS, character) else character
                   for character in text)


def words(text, how="words"):
    """The tokens of `text`, split as the preprocessor splits it."""
    return [word for word in WHITESPACE.split(standardize(text, how)) if word]


class Tokenizer:
    """Texts to a text model's inputs. `mode`: "token_ids" (ids padded or cut to
    `sequence_length`), "multi_hot" (a 0/1 row over the vocabulary of n-grams up to `ngrams`), or
    "bert" ([CLS] ids [SEP], padded or cut to `sequence_length`, with padding mask and segment ids)."""

    def __init__(self, mode, vocabulary, standardize="words", sequence_length=None, ngrams=1, width=None):
        if mode not in MODES or standardize not in STANDARDIZE:
            raise ValueError(f"mode must be one of {MODES} and standardize one of {STANDARDIZE}")
        self.mode, self.vocabulary, self.how = mode, list(vocabulary), standardize
        self.sequence_length, self.ngrams = sequence_length, ngrams
        self.width = width or len(self.vocabulary)  # a multi-hot row's width: the model's input
        self.index = {token: id for id, token in enumerate(self.vocabulary)}

    @classmethod
    def load(cls, path):
        """The tokenizer that `preprocessing.json` at `path` describes."""
        with open(path, encoding="utf-8") as file:
            settings = json.load(file)
        return cls(settings["mode"], settings["vocabulary"], settings["standardize"], settings.get("sequence_length"),
                   settings.get("ngrams", 1), settings.get("width"))

    def __call__(self, texts):
        """One row per text: lists of ints ("token_ids"), of 0.0/1.0 ("multi_hot"), or a dict of
        lists per BERT input ("bert")."""
        rows = [self.encode(text) for text in texts]
        if self.mode == "bert":
            return {name: [row[name] for row in rows] for name in ("token_ids", "padding_mask", "segment_ids")}
        return rows

    def encode(self, text):
        tokens = words(text, self.how)
        if self.mode == "multi_hot":
            row = [0.0] * self.width
            for n in range(1, self.ngrams + 1):
                for start in range(len(tokens) - n + 1):
                    row[self.index.get(" ".join(tokens[start:start + n]), 0)] = 1.0
            return row
        ids = [self.index.get(token, UNKNOWN) for token in tokens]
        if self.mode == "bert":
            ids = [self.index["[CLS]"], *ids[:self.sequence_length - 2], self.index["[SEP]"]]
            padding = [PAD] * (self.sequence_length - len(ids))
            return {"token_ids": ids + padding, "padding_mask": [1] * len(ids) + padding,
                    "segment_ids": [0] * self.sequence_length}
        ids = ids[:self.sequence_length]
        return ids + [PAD] * (self.sequence_length - len(ids))
