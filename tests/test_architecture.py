"""The layout ARCHITECTURE.md draws, checked on the source: which app may import which, and module sizes.

Imports are read with ``ast`` (not by running anything), so an import hidden inside a function counts
like one at the top of the file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("config", "companies", "matchmaking", "events", "seeds")
ENGINE = ROOT / "matchmaking" / "engine"
MAX_LINES = 600
MAX_LOCAL_IMPORTS = 10


def _sources(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "migrations" not in p.parts)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """Every module ``path`` imports, and whether the import sits inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    local_lines = {
        node.lineno
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno in local_lines) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                package = path.relative_to(ROOT).parent.parts
                base = ".".join(package[: len(package) - node.level + 1])
                found.append((f"{base}.{node.module}" if node.module else base, node.lineno in local_lines))
            else:
                found.append((node.module, node.lineno in local_lines))
    return found


def _importers(app: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _sources(ROOT / app)
        for module, _ in _imports(path)
        if module.split(".")[0] in forbidden
    ]


def test_the_engine_imports_neither_django_nor_any_app():
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _sources(ENGINE)
        for module, _ in _imports(path)
        if module.split(".")[0] in ("django", "rest_framework", "celery", *APPS)
        and not module.startswith("matchmaking.engine")
    ]
    assert offenders == []


def test_companies_imports_neither_matchmaking_events_nor_seeds():
    assert _importers("companies", ("matchmaking", "events", "seeds")) == []


def test_matchmaking_does_not_import_events_or_seeds():
    assert _importers("matchmaking", ("events", "seeds")) == []


@pytest.mark.parametrize("app", ["companies", "matchmaking", "events"])
def test_no_app_imports_seeds(app):
    """seeds holds the articles' data and its loader; only config, which wires the apps, links its pages."""
    assert _importers(app, ("seeds",)) == []


def test_events_reach_matching_only_through_its_public_modules():
    """events ranks firms through matchmaking.services.rank_among and words reasons with matchmaking.explain;
    never the engine, the embedder, the digests or matchmaking's selectors."""
    public = {"matchmaking.services", "matchmaking.models", "matchmaking.explain", "matchmaking.serializers"}
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _sources(ROOT / "events")
        for module, _ in _imports(path)
        if module.split(".")[0] == "matchmaking" and module not in public
    ]
    assert offenders == []


def test_no_source_module_is_over_600_lines():
    long = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for app in APPS
        for path in _sources(ROOT / app)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert long == []


def test_at_most_ten_imports_sit_inside_functions_in_the_apps():
    local = [
        f"{path.relative_to(ROOT)}: {module}"
        for app in APPS
        for path in _sources(ROOT / app)
        for module, inside in _imports(path)
        if inside
    ]
    assert len(local) <= MAX_LOCAL_IMPORTS, "\n".join(local)


def test_every_app_names_its_pages_urls_and_its_api_api_urls():
    for app in ("companies", "matchmaking", "events"):
        assert (ROOT / app / "urls.py").exists() and (ROOT / app / "api_urls.py").exists(), app
        assert not (ROOT / app / "web_urls.py").exists(), app
