"""Model builders, one family per module; importing this package registers them all."""

from zoo.models.bert import bert_mlm, bert_text
from zoo.models.convnet import mnist_cnn
from zoo.models.embedding_bag import embedding_bag_text
from zoo.models.gpt import gpt_text
from zoo.models.lstm import lstm_text
from zoo.models.ngram import ngram_text
from zoo.models.transformer import transformer_text
from zoo.models.vampire import vampire
from zoo.models.word2vec import word2vec

__all__ = [
    "bert_mlm", "bert_text", "embedding_bag_text", "gpt_text", "lstm_text", "mnist_cnn", "ngram_text", "transformer_text",
    "vampire", "word2vec",
]
