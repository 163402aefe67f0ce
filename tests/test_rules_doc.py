"""docs/rules.md defines every rule id the repository cites (issue 19: the ids pointed at a document outside the
repository). A rule id cited in code, tests, the schema, the docs or the README and not defined there fails."""

import re
import subprocess
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "rules.md"
# the rule families (docs/rules.md's sections): an id is one of these, a hyphen and a number
FAMILIES = ("TEN", "MNY", "FEE", "PM", "PAY", "RST", "EZ", "TIP", "SUB", "HHL", "ENT", "OFR", "BUY", "USR", "LNK",
            "AUT", "GW", "MGR", "NOT", "API", "INV", "STP", "CMP", "EBL", "SSN", "ADR", "MSG", "SET")
CITED = re.compile(r"(?<![\w-])(" + "|".join(FAMILIES) + r")-(\d+)(?![\w])")
DEFINED = re.compile(r"^- \*\*([A-Z]+-\d+)\*\*", re.MULTILINE)
SEARCHED = (".py", ".md", ".graphql", ".js", ".mjs", ".html", ".toml", ".txt", ".ini", ".json", ".lua")


def repository_files() -> list[Path]:
    """The files git tracks or would track (untracked but not ignored), so a new file counts before its commit."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\n")
    return [ROOT / name for name in listed
            if name.endswith(SEARCHED) and "node_modules" not in name and (ROOT / name).is_file()]


def defined_ids() -> list[str]:
    return DEFINED.findall(RULES.read_text())


def test_every_cited_rule_id_is_defined_in_docs_rules():
    # given
    defined = set(defined_ids())
    missing: dict[str, str] = {}

    # when
    for path in repository_files():
        if path == RULES:
            continue
        for family, number in CITED.findall(path.read_text(errors="replace")):
            missing.setdefault(f"{family}-{number}", str(path.relative_to(ROOT)))
    missing = {rule: where for rule, where in missing.items() if rule not in defined}

    # then: {id: a file citing it}
    assert missing == {}


def test_docs_rules_defines_each_id_once_under_its_family():
    # given
    ids = defined_ids()

    # then
    assert [rule for rule, count in Counter(ids).items() if count > 1] == []
    assert all(rule.split("-")[0] in FAMILIES for rule in ids)
    assert len(ids) >= 132  # every rule of both parts


def test_the_check_sees_citations_in_code_and_schema():
    # given: a sanity check of the scanner, so the first test cannot pass by searching nothing
    cited = {f"{f}-{n}" for path in repository_files() for f, n in CITED.findall(path.read_text(errors="replace"))}

    # then
    assert {"PAY-1", "LNK-3", "API-2"} <= cited
    assert CITED.findall("UTF-8, SS_Access_04, X-PAY-1, PAY-1a") == []
