"""Imports run downhill (issue 19 item 14; docs/layout.md): `app.py` wires everything and nothing in the
application imports it; the services container (`services.py`) sits below the request context and the CLI;
`auth/` decides from the facts it is given and imports nothing of `resolvers/`, `schema/` or `server/`; `domain/`
imports only `domain/`. Every import counts, also those under `if TYPE_CHECKING:` and inside functions: a
type-only import is a dependency of the design too. The graph is read with `ast`, nothing is imported."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("auth", "bench", "datasources", "domain", "migrations", "resolvers", "sandbox", "schema", "server",
            "telemetry")
ENTRY_POINTS = ("tests", "bench")  # drivers that may build the app


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_files() -> dict[str, Path]:
    files = {module_name(p): p for p in ROOT.glob("*.py")}
    for package in (*PACKAGES, "tests"):
        files.update({module_name(p): p for p in (ROOT / package).rglob("*.py") if "node_modules" not in p.parts})
    return files


def import_graph() -> dict[str, set[str]]:
    """module → the project modules it imports (a package import counts as its __init__)."""
    files = project_files()
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            imported |= {target for target in targets if target in files}
        graph[name] = imported - {name}
    return graph


def top(module: str) -> str:
    return module.split(".")[0]


def test_nothing_in_the_application_imports_app():
    # given
    graph = import_graph()

    # when
    importers = sorted(m for m, deps in graph.items() if "app" in deps and top(m) not in ENTRY_POINTS)

    # then
    assert importers == []


def test_auth_imports_nothing_of_resolvers_schema_server_or_app():
    # given
    graph = import_graph()

    # when
    uphill = sorted(f"{m} -> {d}" for m, deps in graph.items() if top(m) == "auth"
                    for d in deps if top(d) in ("resolvers", "schema", "server", "app", "services"))

    # then
    assert uphill == []


def test_domain_imports_only_domain():
    # given
    graph = import_graph()

    # when
    outside = sorted(f"{m} -> {d}" for m, deps in graph.items() if top(m) == "domain" for d in deps
                     if top(d) != "domain")

    # then
    assert outside == []


def test_the_services_container_and_settings_sit_below_the_request_path():
    # given: services.py is imported by the app, the context and the CLI, so it must not reach back up
    graph = import_graph()

    def reachable(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for dep in graph.get(todo.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen

    # then
    assert {top(m) for m in reachable("services")} & {"app", "resolvers", "schema", "server", "cli"} == set()
    assert reachable("settings") <= {"settings"}
    assert "services" in graph["resolvers.context"] and "app" not in graph["resolvers.context"]


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's components of more than one module: each is an import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def test_the_only_import_cycles_are_graphql_types_naming_each_other():
    # given: issue 19 found one cycle of 59 files through app.py, the context and auth/
    graph = {m: {d for d in deps if top(d) != "tests"} for m, deps in import_graph().items() if top(m) != "tests"}

    # when
    cycles = strongly_connected(graph)

    # then: schema types that reference each other (strawberry.lazy) are the one accepted kind
    assert [sorted(c) for c in cycles if not all(top(m) == "schema" for m in c)] == []
    assert all(len(c) <= 3 for c in cycles)
