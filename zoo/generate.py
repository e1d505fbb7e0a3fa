"""Generate text with a trained causal LM, from its model dir or from its exported SavedModel.

    python -m zoo.generate --model-dir runs/gpt_text --prompt "This movie" --max-length 64 \\
        --sampler top_p --temperature 0.8 --seed 1
    python -m zoo.generate --model-dir saved_models/gpt_text --prompt "This movie" --sampler greedy
    python -m zoo.generate --model-dir gpt_text --prompt "This movie"   # the shipped preset

A model dir (or a preset, by name) generates with keras-hub's `generate()`; a SavedModel through its `generate*`
signatures (see `zoo.serving.generation.graph_generate`), with TensorFlow alone. The same seed gives the same text.
`--max-length` counts tokens (characters for `gpt_text`), the prompt's and the start token included.
"""

import argparse
import sys

from zoo import cli
from zoo.serving.generation import DEFAULT_TOP_K, DEFAULT_TOP_P, SAMPLERS


@cli.command("zoo.generate")
def main(argv=None):
    parser = argparse.ArgumentParser(description="Generate text with a trained causal LM.")
    parser.add_argument("--model-dir", required=True, help="a finished run, an exported SavedModel, or a preset's name")
    parser.add_argument("--prompt", action="append", required=True, help="repeat for a batch of prompts")
    parser.add_argument("--max-length", type=int, default=64, help="tokens in all, the prompt's included")
    parser.add_argument("--sampler", choices=SAMPLERS, default="top_p")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-k", type=int, default=DEFAULT_TOP_K)
    parser.add_argument("--top-p", type=float, default=DEFAULT_TOP_P)
    parser.add_argument("--seed", type=int, help="the same seed gives the same text")
    args = parser.parse_args(argv)
    cli.quiet_start()
    from zoo.serving.generation import generate

    texts = generate(args.model_dir, args.prompt, args.max_length, args.sampler, args.temperature,
                     args.seed, args.top_k, args.top_p)
    print("\n\n".join(texts))


if __name__ == "__main__":
    sys.exit(main())
