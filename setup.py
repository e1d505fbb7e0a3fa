from setuptools import find_packages, setup

setup(
    name="zoo",
    version="0.1.0",
    description="Keras 3 / TensorFlow model zoo: list, build, train on TFDS, export for TF Serving.",
    packages=find_packages(include=["zoo", "zoo.*"]),
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3.10",
        "keras-hub>=0.20",
        "tensorflow-datasets>=4.9",
        # tensorflow-datasets 4.9 imports it at run time without declaring it.
        "importlib_resources",
        "numpy",
        # `import zoo` registers its Keras objects when Keras is imported (a post-import hook).
        "wrapt",
        # TensorFlow no longer installs it; Keras' TensorBoard callback needs it.
        "tensorboard",
        # Protos for TF Serving's warm-up requests and models.config.
        "tensorflow-serving-api",
        # The evaluation report's confusion matrix and mistakes (zoo.evaluate), zoo.tune's plot.
        "matplotlib",
        # zoo.tune's search; its Bayesian optimization needs scikit-learn and scipy.
        "keras-tuner>=1.4.7",
        "scikit-learn",
        "scipy",
        # zoo.export --format litert and onnx (zoo.serving.edge_export), and their runtimes (zoo.edge_predict).
        "ai-edge-litert",
        "tf2onnx",
        "onnx",
        "onnxruntime",
    ],
    extras_require={
        # pytest-xdist: the suite runs its test files over every core (pytest.ini); jax: the
        # builders are checked on Keras' JAX backend too.
        "test": ["pytest", "pytest-xdist", "psutil", "jax"],
        "benchmarks": ["matplotlib", "psutil"],
        # The docs site (mkdocs.yml): Material for MkDocs, the API page from the docstrings, and
        # the model pages made from the registry and the cards at build time.
        "docs": ["mkdocs-material", "mkdocstrings[python]", "mkdocs-gen-files"],
    },
)
