"""Pages made when the site builds (mkdocs-gen-files): one per registered model, from its
registration and its preset's card, and the benchmark results the pages link to."""

import inspect
import pathlib
import re

import mkdocs_gen_files

import zoo

REPO = pathlib.Path(__file__).resolve().parents[1]
RESULT_FILES = ("*.md", "*.json", "*.jsonl", "*.png")
RECIPE_FIELDS = ("task", "modality", "dataset", "serving_input", "epochs", "min_steps", "batch_size", "optimizer",
                 "learning_rate", "learning_rate_schedule", "weight_decay", "train_split", "validation_split",
                 "test_split")


def copy(source, target):
    with mkdocs_gen_files.open(target, "wb") as file:
        file.write(source.read_bytes())


def registration_table(spec):
    rows = [f"| `{field}` | `{getattr(spec, field)}` |" for field in RECIPE_FIELDS if hasattr(spec, field)]
    return "\n".join(["| registered | value |", "|---|---|", *rows])


def model_page(name):
    """The model's builder, its registered recipe, and its preset's card (headers one level down)."""
    spec = zoo.get_model_spec(name)
    signature = inspect.signature(spec.builder)
    lines = [f"# `{name}`", "", inspect.getdoc(spec.builder) or "", "", "```python",
             f"model = zoo.build_model(\"{name}\")  # zoo.models.{spec.builder.__name__}{signature}", "```", "",
             registration_table(spec), ""]
    card = REPO / "presets" / name / "README.md"
    if card.exists():
        body = card.read_text().split("\n", 1)[1]  # the card's own title line is the page's
        lines += ["## The shipped preset", "", re.sub(r"^(#+) ", r"#\1 ", body, flags=re.M)]
        for figure in sorted(card.parent.glob("*.png")):
            copy(figure, f"models/{name}/{figure.name}")
    return "\n".join(lines)


for path in sorted((REPO / "benchmarks" / "results").iterdir()):
    if any(path.match(pattern) for pattern in RESULT_FILES):
        copy(path, f"benchmarks/results/{path.name}")

for model_name in zoo.list_models():
    with mkdocs_gen_files.open(f"models/{model_name}/index.md", "w") as page:
        page.write(model_page(model_name))

with mkdocs_gen_files.open("index.md", "w") as page:  # the README, its links made the site's
    page.write((REPO / "README.md").read_text().replace("](docs/", "]("))

with mkdocs_gen_files.open("models.md", "w") as page:  # the README's table of models, and where each page is
    readme = (REPO / "README.md").read_text()
    table = readme.split("## Models\n", 1)[1].split("\n## ", 1)[0]
    page.write("# Models\n" + table + "\nEach model has a page: its builder, its registered recipe and its preset's card "
               "(under Models in the navigation). `python train.py --list` prints the same list with each preset's "
               "test figure.\n")
