"""Token embedding shared by the text classifiers, with optional strided patching."""

from keras import layers, ops


def embed_tokens(token_ids, vocabulary_size, embedding_dim, patch_size=1):
    """Embeds right-padded `token_ids` (0 is padding); returns the embeddings and padding mask.

    With `patch_size` > 1 a strided convolution merges each run of `patch_size` token embeddings
    into one position, as ViT patches an image: the layers after it see a review `patch_size`
    times shorter, with word order inside each patch kept, and a patch is padding only when all
    its tokens are. Padding stays on the right, as cuDNN's masked LSTM kernel requires.
    The first position always counts as a token, so that a text with none (empty, or only
    punctuation) still has one to pool over: a masked average of nothing is NaN.
    """
    sequence_length = token_ids.shape[1]
    if patch_size < 1:
        raise ValueError(f"patch_size must be at least 1, got {patch_size}")
    if sequence_length % patch_size:
        raise ValueError(f"sequence_length {sequence_length} is not a multiple of patch_size {patch_size}")
    padding_mask = ops.not_equal(token_ids, 0)
    x = layers.Embedding(vocabulary_size, embedding_dim)(token_ids)
    if patch_size > 1:
        x = x * ops.expand_dims(ops.cast(padding_mask, x.dtype), -1)
        x = layers.Conv1D(embedding_dim, patch_size, strides=patch_size)(x)
        patches = ops.reshape(padding_mask, (-1, sequence_length // patch_size, patch_size))
        padding_mask = ops.any(patches, axis=-1)
    first_position = ops.arange(sequence_length // patch_size) == 0
    return x, ops.logical_or(padding_mask, first_position)
