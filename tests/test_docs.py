"""The README stays a first-ten-minutes page and the docs folder hangs together: every relative link in the README
and docs/ names a file that exists (and a heading that exists, for `page.md#anchor`), and docs/index.md lists every
page of docs/."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    found, fenced = set(), False
    for line in page.read_text().split("\n"):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def test_every_relative_link_in_the_readme_and_docs_resolves():
    # given
    broken: list[str] = []

    # when
    for page in pages():
        for target in LINK.findall(page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # http(s), mailto: not checked here
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{page.name}: {target} (no such heading)")

    # then
    assert broken == []


def test_docs_index_lists_every_docs_page():
    # given
    index = (DOCS / "index.md").read_text()

    # when
    listed = set(LINK.findall(index))
    unlisted = [page.name for page in DOCS.glob("*.md") if page.name != "index.md" and page.name not in listed]

    # then
    assert unlisted == [], "add these pages to docs/index.md"


def test_readme_keeps_to_the_first_ten_minutes():
    # given
    readme = (ROOT / "README.md").read_text()

    # then: the two commands open it, and it links on rather than growing back (issue 19: it had reached 57 KB)
    assert readme.split("\n")[2:6] == [
        "```sh",
        "make run    # install into .venv, migrate, seed demo data, serve: GraphiQL at http://127.0.0.1:8000/graphql,",
        "            # the browser demo at http://127.0.0.1:8000/demo/",
        "make test   # install into .venv and run the whole test suite (SQLite, and PostgreSQL when 127.0.0.1:5432 answers)",
    ]
    assert len(readme.encode()) < 8000
    assert "docs/index.md" in readme and "docs/rules.md" in readme
