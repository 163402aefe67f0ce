"""`.env.example` lists every setting in settings.py with its default (issue 19, item 10), and as a `.env` it
means exactly the defaults. After adding or changing a setting, regenerate it:
`.venv/bin/python -m tests.test_env_example > .env.example`."""

from __future__ import annotations

import re
import textwrap
from enum import Enum

from settings import Settings
from tests.support import ROOT

EXAMPLE = ROOT / ".env.example"
VARIABLE = re.compile(r"^# ((?:PAPERGRAPH_[A-Z0-9_]+)|DATABASE_URL)=(.*)$")
HEADER = """\
# papergraph's settings, every one of them, with its default (settings.py is the source; tests/test_env_example.py
# keeps this file in step). Copy to `.env` (read from the working directory) or export the variables, and
# uncomment what you change. The defaults run the embedded development set-up; production needs at least
# PAPERGRAPH_ENVIRONMENT, DATABASE_URL, PAPERGRAPH_UPSTREAMS=remote, the upstream URLs and the three secrets.
"""


def env_name(field: str) -> str:
    return "DATABASE_URL" if field == "database_url" else f"PAPERGRAPH_{field.upper()}"


def shown(default: object) -> str:
    if default is None:
        return ""
    if isinstance(default, Enum):
        return str(default.value)
    if isinstance(default, bool):
        return "true" if default else "false"
    return str(default)


def render() -> str:
    lines = [HEADER]
    for name, info in Settings.model_fields.items():
        lines += [f"# {line}" for line in textwrap.wrap(info.description or "", 112)]
        lines += [f"# {env_name(name)}={shown(info.default)}", ""]
    return "\n".join(lines).rstrip() + "\n"


def variables(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for line in text.splitlines() if (m := VARIABLE.match(line))}


def test_env_example_lists_every_setting_once_with_its_default():
    # given: the example file
    text = EXAMPLE.read_text()

    # when: its variables are read
    listed = variables(text)

    # then: exactly the settings, each with its default
    expected = {env_name(name): shown(info.default) for name, info in Settings.model_fields.items()}
    assert listed == expected, "regenerate: .venv/bin/python -m tests.test_env_example > .env.example"
    assert len(re.findall(r"^# (?:PAPERGRAPH_[A-Z0-9_]+|DATABASE_URL)=", text, re.M)) == len(expected)


def test_env_example_uncommented_as_a_dotenv_means_the_defaults(tmp_path, monkeypatch):
    # given: every variable of the example with a value, uncommented into a .env, and none in the environment
    for name in Settings.model_fields:
        monkeypatch.delenv(env_name(name), raising=False)
    monkeypatch.chdir(tmp_path)
    dotenv = tmp_path / ".env"
    dotenv.write_text("".join(f"{name}={value}\n" for name, value in variables(EXAMPLE.read_text()).items() if value))

    # when: settings are read from it
    settings = Settings(_env_file=str(dotenv))

    # then: they are the defaults
    assert settings.model_dump() == Settings(_env_file=None).model_dump()


if __name__ == "__main__":
    print(render(), end="")
