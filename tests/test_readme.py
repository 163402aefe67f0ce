"""The README documents every setting."""

from pathlib import Path

from settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_documents_every_setting():
    missing = [
        name for name in Settings.model_fields
        if ("DATABASE_URL" if name == "database_url" else f"PAPERGRAPH_{name.upper()}") not in README
    ]

    assert missing == []
