"""The package's shape: no import cycle among zoo's modules (the registry's import of the builders
that register themselves aside), and commands that are command lines over the libraries."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "zoo"
COMMANDS = ("zoo.export", "zoo.evaluate", "zoo.predict", "zoo.generate", "zoo.tune")
ALLOWED_CYCLE = "zoo.registry"  # imports zoo.models on the first look-up; each builder registers itself


def module_names():
    """Every module of the package by dotted name, to its file."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imports(path, modules):
    """The zoo modules `path` imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return {name for name in found if name in modules}


def import_graph():
    modules = module_names()
    return {name: imports(path, modules) - {name} for name, path in modules.items()}


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while not component or node not in component:
                component.add(stack.pop())
            on_stack.difference_update(component)
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_cycles_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_no_import_cycle_but_the_registrys():
    for component in cycles(import_graph()):
        assert ALLOWED_CYCLE in component, f"import cycle: {' -> '.join(sorted(component))}"
        assert all(name == ALLOWED_CYCLE or name.startswith("zoo.models") for name in component), component


@pytest.mark.parametrize("command", COMMANDS)
def test_no_library_imports_a_command(command):
    importers = sorted(name for name, imported in import_graph().items() if command in imported)
    assert importers == [], f"{command} is a command line; {importers} should import the library it calls"


@pytest.mark.parametrize("command", COMMANDS)
def test_commands_are_thin(command):
    source = (PACKAGE.parent / (command.replace(".", "/") + ".py")).read_text()
    functions = [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
    assert set(functions) <= {"parse_args", "main"}, f"{command} defines {functions}: libraries belong in packages"


def test_no_function_runs_past_a_screen():
    """About 60 lines of code: a longer function does two jobs (signature and docstring counted)."""
    long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 75:
                long.append(f"{path.relative_to(PACKAGE.parent)}:{node.name}")
    assert long == []
