"""One name per demo role, everywhere (issue 19 item 5): the README's quickstart signed in Ada with `cli token
customer` while /demo called Bjorn "the demo subscriber". The demo subscriber is Bjorn Haddad, `cli token
subscriber`, on every page that names one."""

import re
import subprocess
import sys
from pathlib import Path

from sandbox.signin import WHO, demo_login

ROOT = Path(__file__).resolve().parent.parent.parent
SUBSCRIBER_EMAIL = "bjorn.haddad.1@ncsdemo.example.com"


def test_cli_token_subscriber_is_the_demo_subscriber_the_demo_page_names():
    # given
    login = demo_login("subscriber", "NCSDEMO")
    demo_page = (ROOT / "demo" / "index.html").read_text()

    # then
    assert login["grant"]["username"] == SUBSCRIBER_EMAIL
    assert login["name"] == f"Bjorn Haddad <{SUBSCRIBER_EMAIL}> (the demo subscriber)"
    assert re.search(r"Demo subscriber: <code>([^<]+)</code>", demo_page)[1] == SUBSCRIBER_EMAIL


def test_the_docs_name_the_demo_subscriber_one_way():
    # given
    readme = (ROOT / "README.md").read_text()
    pages = {p.name: p.read_text() for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]}

    # then: the quickstart signs in the demo subscriber, and no page gives the role to another principal
    assert "cli token subscriber" in readme and "Bjorn Haddad" in readme
    assert [name for name, text in pages.items() if "cli token customer" in text or "token guest" in text] == []
    assert "guest" not in WHO and WHO[0] == "subscriber"


def test_cli_token_help_names_the_demo_subscriber():
    # when
    done = subprocess.run([sys.executable, "-m", "cli", "token", "--help"], cwd=ROOT, capture_output=True, text=True)

    # then
    assert "subscriber (the demo subscriber)" in " ".join(done.stdout.split())
