"""Causal language modelling, GPT's training: every token of a text predicts the next one.
The targets are the texts themselves, shifted by one; padding carries weight 0, so the loss,
accuracy and perplexity are means over real tokens."""

import dataclasses
import functools
import math

import keras
import keras_hub
import tensorflow as tf

from zoo.serving import generation
from zoo.tasks.base import Task, compile_token_predictions


class CausalLM(Task):
    monitor = "val_accuracy"

    def load_data(self, spec, settings, config, preprocessor=None):
        """Texts from the splits the spec names (labels unused), as (inputs, next tokens, weights):
        the spec's preprocessor is keras-hub's causal-LM one, which makes all three."""
        datasets = super().load_data(spec, settings, config, preprocessor)
        unlabelled = {
            split: getattr(datasets, split).map(lambda packed, labels: packed, num_parallel_calls=tf.data.AUTOTUNE)
            for split in ("train", "validation", "test") if getattr(datasets, split) is not None
        }
        return dataclasses.replace(datasets, **unlabelled)

    def compile(self, model, optimizer, jit_compile=False):
        # Means over real tokens: padding weighs 0. Perplexity too, over all batches' tokens.
        compile_token_predictions(
            model, optimizer, jit_compile, [keras_hub.metrics.Perplexity(from_logits=True, name="perplexity")]
        )

    def saved_model(self, model, datasets):
        """The causal LM with its adapted preprocessor attached, so that keras-hub's
        `generate()` takes and returns strings."""
        return type(model)(model.backbone, datasets.preprocessor, compile=False, name=model.name)

    def serving_archive(self, model, serving_input, summary):
        """`serving_default`: texts in, their next token's probabilities out; `generate`
        (top-p), `generate_top_k` and `generate_greedy`: prompts in, generated texts out."""
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(
            "serving_default",
            lambda texts: next_token(model, texts),
            input_signature=[tf.TensorSpec([None], tf.string, name="text")],
        )
        prompts = tf.TensorSpec([None], tf.string, name="prompts")
        max_length = tf.TensorSpec([], tf.int32, name="max_length")
        greedy = generation.make_sampler("greedy")
        archive.add_endpoint(
            generation.SIGNATURES["greedy"],
            lambda prompts, max_length: {"text": generation.graph_generate(model, greedy, prompts, max_length)},
            input_signature=[prompts, max_length],
        )
        for name in ("top_k", "top_p"):
            sampler = generation.make_sampler(name, seed=0)
            archive.track(sampler.seed_generator.state)
            archive.add_endpoint(
                generation.SIGNATURES[name],
                functools.partial(sampled_texts, model, sampler),
                input_signature=[
                    prompts, max_length, tf.TensorSpec([], tf.float32, name="temperature"),
                    tf.TensorSpec([], tf.int32, name="seed"),
                ],
            )
        return archive

    def evaluate(self, model, history, datasets):
        """The base metrics, and bits per character: each token is one character (or the end
        of a text), so they are the perplexity's base-2 logarithm."""
        validation_metrics, test_metrics = super().evaluate(model, history, datasets)
        for metrics in filter(None, (validation_metrics, test_metrics)):
            metrics["bits_per_character"] = math.log2(metrics["perplexity"])
        return validation_metrics, test_metrics

    def summary(self, datasets):
        return {"tokens": "characters", "vocabulary_size": len(datasets.preprocessor.get_vocabulary())}


def next_token(model, texts):
    """The probabilities of the token after each text, the likeliest one's id and string; of a
    text longer than the context, its last tokens are read."""
    tokenizer, context = model.preprocessor.tokenizer, model.backbone.max_sequence_length
    inputs = generation.packed(generation.tokens_after_start(tokenizer, texts)[:, -context:], context, tokenizer.pad_token_id)
    logits = model(inputs, training=False)
    last = tf.reduce_sum(tf.cast(inputs["padding_mask"], tf.int32), axis=-1) - 1
    probabilities = tf.nn.softmax(tf.gather(logits, last, batch_dims=1))
    token_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
    return {
        "probabilities": probabilities,
        "token_id": token_id,
        "token": model.preprocessor.tokenizer.detokenize(token_id[:, None]),
    }


def sampled_texts(model, sampler, prompts, max_length, temperature, seed):
    """`generation.graph_generate` with the temperature of the request."""
    sampler.temperature = temperature
    return {"text": generation.graph_generate(model, sampler, prompts, max_length, seed)}


TASK = CausalLM()
