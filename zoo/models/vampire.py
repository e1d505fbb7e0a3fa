"""Document features learnt from unlabelled text: VAMPIRE (Gururangan et al. 2019), a variational
autoencoder of a text's bag of words whose encoder's layers describe what the text is about.
Beside a classifier's own features they pay where labels are few (`docs/benchmarks.md`)."""

import keras
from keras import layers, ops

from zoo.models import text_preprocessing
from zoo.registry import register_model


@register_model(
    "vampire",
    modality="text",
    task="vampire",
    dataset="imdb_reviews",
    # The unlabelled reviews and the training reviews, never the test ones.
    train_split="unsupervised[:98%]+train",
    validation_split="unsupervised[98%:99%]",
    test_split="unsupervised[99%:]",
    serving_input="text",
    preprocessor=text_preprocessing.word_counts,
    epochs=40,  # VAMPIRE's IMDB recipe (allenai/vampire environments.py), as are the sizes below
    batch_size=200,
    optimizer="adam",
    learning_rate=1e-3,
)
def vampire(vocabulary_size=30000, hidden_dim=64, num_topics=64):
    """A text's features (`features`: both hidden layers and its topic proportions, what VAMPIRE
    hands a classifier) and its posterior over topics (`mean`, `log_variance`, logistic normal),
    from its word counts. `topic_words` decodes topic proportions into word logits; the task
    trains through it from sampled topics."""
    counts = keras.Input(shape=(vocabulary_size,), sparse=True, name="word_counts")
    first = layers.Dense(hidden_dim, activation="softplus", name="hidden_1")(counts)
    second = layers.Dense(hidden_dim, activation="softplus", name="hidden_2")(first)
    mean = layers.Dense(num_topics, name="topic_mean")(second)
    log_variance = layers.Dense(num_topics, name="topic_log_variance")(second)
    topics = layers.Softmax(name="topics")(mean)
    features = layers.Concatenate(name="features", dtype="float32")([first, second, topics])
    word_logits = layers.Dense(vocabulary_size, use_bias=False, name="topic_words")(topics)
    return keras.Model(counts, {"features": features, "mean": mean, "log_variance": log_variance,
                                "word_logits": ops.cast(word_logits, "float32")}, name="vampire")
