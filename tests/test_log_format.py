"""Logs a developer can read and a collector can parse (issue 19 item 7): plain lines when the log stream is a
terminal outside production, JSON otherwise, a setting forcing either; and no terminal colour codes inside JSON
(uvicorn's `color_message` used to land in every line as `\\u001b[36m…`)."""

from __future__ import annotations

import io
import logging
import subprocess
import sys

import orjson
import pytest

from settings import Settings
from telemetry.logs import JsonFormatter, log_format_for, logging_config
from tests.support import ROOT


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("environment, log_format, stream, expected", [
    ("development", "auto", Terminal(), "text"),
    ("development", "auto", io.StringIO(), "json"),  # a pipe or a file
    ("production", "auto", Terminal(), "json"),
    ("development", "json", Terminal(), "json"),  # the setting forces either
    ("production", "text", io.StringIO(), "text"),
])
def test_the_log_format_follows_the_terminal_unless_a_setting_forces_it(environment, log_format, stream, expected):
    # given
    settings = Settings(environment=environment, log_format=log_format, _env_file=None,
                        **({"secret_key": "s" * 32, "auth0_client_secret": "c" * 32, "navigapay_api_key": "k" * 32,
                            "upstreams": "remote"} if environment == "production" else {}))

    # when
    chosen = log_format_for(settings, stream)
    config = logging_config(settings, stream)

    # then
    assert chosen == expected
    assert config["handlers"]["stdout"]["formatter"] == expected


def test_json_lines_carry_no_colour_codes():
    # given: a record as uvicorn writes it, with its coloured copy of the message, and a message with ANSI codes
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started server process [%d]", (42,), None)
    record.color_message = "Started server process [\x1b[36m%d\x1b[0m]"
    coloured = logging.LogRecord("papergraph", logging.INFO, __file__, 1, "\x1b[1mready\x1b[0m on %s", ("x",), None)

    # when
    lines = [JsonFormatter().format(record), JsonFormatter().format(coloured)]

    # then
    assert all("\x1b" not in line and "\\u001b" not in line for line in lines)
    assert [orjson.loads(line)["message"] for line in lines] == ["Started server process [42]", "ready on x"]
    assert "color_message" not in orjson.loads(lines[0])


def test_app_app_logging_to_a_pipe_writes_json_by_default(tmp_path):
    # given: no PAPERGRAPH_LOG_FORMAT, stdout a pipe; `app:app` configures logging like `papergraph run`
    script = "import app, logging; app.app; logging.getLogger('papergraph').warning('hello')"

    # when
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"})

    # then
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout.strip().splitlines()[-1])["message"] == "hello"
