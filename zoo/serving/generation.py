"""Text generation with a trained causal LM: keras-hub's `generate()` on a run's model, and the
same on TensorFlow ops only (`graph_generate`), which a SavedModel's `generate*` signatures trace."""

import random
import re

import numpy as np

from zoo.errors import UserError, first_line

SAMPLERS = ("greedy", "top_k", "top_p")

DEFAULT_TOP_K = 10

DEFAULT_TOP_P = 0.9  # keras-hub's default, 0.1, keeps so few tokens that it is nearly greedy

SIGNATURES = {"greedy": "generate_greedy", "top_k": "generate_top_k", "top_p": "generate"}


def make_sampler(name, temperature=1.0, seed=None, top_k=DEFAULT_TOP_K, top_p=DEFAULT_TOP_P):
    """The keras-hub sampler `name` is, its arguments checked with one-line errors."""
    import keras_hub

    if name not in SAMPLERS:
        raise UserError(f"unknown sampler {name!r}; pick one of {', '.join(SAMPLERS)}")
    if not temperature > 0:
        raise UserError(f"--temperature must be positive, got {temperature}")
    if name == "greedy":
        return keras_hub.samplers.GreedySampler(temperature=temperature)
    if name == "top_k":
        if not top_k >= 1:
            raise UserError(f"--top-k must be at least 1, got {top_k}")
        return keras_hub.samplers.TopKSampler(k=top_k, seed=seed, temperature=temperature)
    if not 0 < top_p <= 1:
        raise UserError(f"--top-p must be in (0, 1], got {top_p}")
    return keras_hub.samplers.TopPSampler(p=top_p, seed=seed, temperature=temperature)


def tokens_after_start(tokenizer, texts):
    """`texts` as ragged token ids, the start token first, on TensorFlow ops only."""
    import tensorflow as tf

    token_ids = tokenizer.tokenize(texts)
    start = tf.fill([token_ids.nrows(), 1], tf.constant(tokenizer.start_token_id, token_ids.dtype))
    return tf.concat([start, token_ids], axis=1)


def packed(token_ids, length, pad_token_id=0):
    """Ragged `token_ids` as a causal LM's inputs `length` tokens long, padding after them."""
    import tensorflow as tf

    shape = tf.stack([token_ids.nrows(), tf.cast(length, tf.int64)])
    return {
        "token_ids": token_ids.to_tensor(pad_token_id, shape=shape),
        "padding_mask": tf.sequence_mask(token_ids.row_lengths(), length),
    }


def prompt_inputs(model, prompts, max_length):
    """`prompts` as `model`'s inputs to generate from, `max_length` tokens long; a prompt or a
    length that does not fit fails with a message."""
    import tensorflow as tf

    token_ids = tokens_after_start(model.preprocessor.tokenizer, prompts)
    lengths = tf.cast(token_ids.row_lengths(), tf.int32)
    context = model.backbone.max_sequence_length
    checks = [
        tf.debugging.assert_less_equal(
            max_length, context, message=f"max_length is longer than the model context of {context} tokens"
        ),
        tf.debugging.assert_less(lengths, max_length, message="a prompt leaves no room to generate within max_length"),
    ]
    with tf.control_dependencies(checks):
        return packed(token_ids, max_length, model.preprocessor.tokenizer.pad_token_id)


def graph_generate(model, sampler, prompts, max_length, seed=None):
    """Texts that `model` (a keras-hub CausalLM with its preprocessor) writes after `prompts`,
    `max_length` tokens in all, on TensorFlow ops only, so that it traces into a SavedModel:
    keras-hub's `generate_step` between tokenizing and detokenizing in TensorFlow (keras-hub's
    `generate_postprocess` needs NumPy). `seed` restarts the sampler's random stream."""
    import tensorflow as tf

    inputs = prompt_inputs(model, prompts, max_length)
    if seed is not None:
        state = sampler.seed_generator.state
        state.assign(tf.cast(tf.stack([seed, 0]), state.dtype))
    model.sampler = sampler
    tokenizer = model.preprocessor.tokenizer
    outputs = model.generate_step(inputs, stop_token_ids=[tokenizer.end_token_id])
    generated = outputs["token_ids"]
    keep = outputs["padding_mask"] & (generated != tokenizer.end_token_id) & (generated != tokenizer.pad_token_id)
    return tokenizer.detokenize(tf.ragged.boolean_mask(generated, keep))


def generate(path, prompts, max_length=64, sampler="top_p", temperature=1.0, seed=None,
             top_k=DEFAULT_TOP_K, top_p=DEFAULT_TOP_P):
    """The texts generated after `prompts` by the run in `path`, a model dir or a SavedModel."""
    return load(path)(prompts, max_length, sampler, temperature, seed, top_k, top_p)


def load(path):
    """`generate` with the model in `path` loaded once, for many calls."""
    from zoo.serving.signatures import utf8_texts
    from zoo.store import presets, records

    path = presets.resolve(path)
    write = _python_writer(path) if (path / records.SUMMARY).exists() else _saved_model_writer(path)

    def generate_with_loaded(prompts, max_length=64, sampler="top_p", temperature=1.0, seed=None,
                             top_k=DEFAULT_TOP_K, top_p=DEFAULT_TOP_P):
        make_sampler(sampler, temperature, seed, top_k, top_p)  # checks the arguments first
        if not isinstance(max_length, int) or max_length < 2:
            raise UserError(f"--max-length must be an integer of at least 2, got {max_length!r}")
        prompts = [text.decode() for text in utf8_texts(prompts, "--prompt")]
        return write(prompts, max_length, sampler, temperature, seed, top_k, top_p)

    return generate_with_loaded


def _python_writer(model_dir):
    """keras-hub's `generate()` on the run's `model.keras`; a prompt that does not fit is a
    `UserError`. The model is compiled anew only when the sampler changes (each compile traces
    the generation again); a seed restarts the sampler's random stream."""
    from zoo.store import runs

    summary, model = runs.load_run(model_dir)
    if not hasattr(model, "generate"):
        raise UserError(f"{model_dir} holds a {summary.model} run, which does not generate text: pick a causal LM")
    context = model.backbone.max_sequence_length
    compiled_for = None

    def write(prompts, max_length, sampler, temperature, seed, top_k, top_p):
        nonlocal compiled_for
        if max_length > context:
            raise UserError(f"--max-length {max_length} is longer than the model context of {context} tokens")
        for prompt in prompts:
            tokens = 1 + int(model.preprocessor.tokenizer.tokenize(prompt).shape[0])
            if tokens >= max_length:
                raise UserError(
                    f"the prompt {prompt[:30]!r} is {tokens} tokens with the start token: "
                    f"--max-length {max_length} leaves no room to generate (the context is {context})"
                )
        if compiled_for != (sampler, temperature, top_k, top_p):
            model.compile(sampler=make_sampler(sampler, temperature, None, top_k, top_p))
            compiled_for = (sampler, temperature, top_k, top_p)
        if seed is not None and hasattr(model.sampler, "seed_generator"):
            state = model.sampler.seed_generator.state
            state.assign(np.array([seed, 0], state.dtype))
        return model.generate(prompts, max_length=max_length)

    return write


def _saved_model_writer(path):
    """The SavedModel's `generate*` signature for the sampler; its checks become `UserError`s."""
    import tensorflow as tf

    from zoo.serving.signatures import load_saved_model

    signatures = load_saved_model(path).signatures

    def write(prompts, max_length, sampler, temperature, seed, top_k, top_p):
        if SIGNATURES[sampler] not in signatures:
            raise UserError(f"{path} has no {SIGNATURES[sampler]} signature: it is not a causal LM export")
        if (top_k, top_p) != (DEFAULT_TOP_K, DEFAULT_TOP_P):
            raise UserError(
                f"a SavedModel samples with the k={DEFAULT_TOP_K} and p={DEFAULT_TOP_P} fixed at export; "
                "generate from the run's model dir for others"
            )
        inputs = {"prompts": tf.constant(prompts), "max_length": tf.constant(max_length)}
        if sampler != "greedy":
            seed = random.randrange(2**31) if seed is None else seed
            inputs.update(temperature=tf.constant(float(temperature)), seed=tf.constant(seed))
        try:
            texts = signatures[SIGNATURES[sampler]](**inputs)["text"]
        except tf.errors.InvalidArgumentError as error:  # a failed check of `prompt_inputs`
            failed = re.search(r"assertion failed: \[([^\]]*)\]", error.message)
            raise UserError(failed.group(1) if failed else first_line(error.message)) from None
        return [text.decode() for text in texts.numpy()]

    return write
