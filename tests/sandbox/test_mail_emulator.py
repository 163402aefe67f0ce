"""The mail emulator (sandbox/mail) on its own: a real SMTP server keeping messages, read and deleted through
its Mailpit-shaped HTTP API, with SMTP faults."""

from __future__ import annotations

import subprocess
import sys
import time
from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest

from sandbox.faults import SandboxControl
from sandbox.mail import MailServer, MailStore, create_app
from tests.support import ROOT, free_port


def message(to: str, subject: str = "Hello", message_id: str | None = None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Paper <no-reply@example.com>"
    mail["To"] = to
    mail["Subject"] = subject
    if message_id:
        mail["Message-ID"] = message_id
    mail.set_content("plain part")
    mail.add_alternative("<p>html part</p>", subtype="html")
    return mail


@pytest.fixture
async def emulator():
    store, control = MailStore(), SandboxControl()
    server = await MailServer(store, control).start()
    app = create_app(store, control)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mail.sandbox") as client:
        yield server, client
    await server.close()


async def test_a_message_sent_over_smtp_is_listed_by_recipient_read_and_deleted(emulator):
    # given
    server, client = emulator
    await aiosmtplib.send(message("a@example.com", "For A"), hostname=server.host, port=server.port)
    await aiosmtplib.send(message("b@example.com", "For B"), hostname=server.host, port=server.port)
    # when
    found = (await client.get("/api/v1/search", params={"query": "to:a@example.com"})).json()
    full = (await client.get(f"/api/v1/message/{found['messages'][0]['ID']}")).json()
    # then
    assert [m["Subject"] for m in found["messages"]] == ["For A"]
    assert full["To"] == [{"Name": "", "Address": "a@example.com"}]
    assert (full["Text"].strip(), full["HTML"].strip()) == ("plain part", "<p>html part</p>")
    assert (await client.get("/api/v1/messages")).json()["total"] == 2
    await client.request("DELETE", "/api/v1/messages", json={"IDs": [full["ID"]]})
    assert [m["Subject"] for m in (await client.get("/api/v1/messages")).json()["messages"]] == ["For B"]
    assert (await client.get(f"/api/v1/message/{full['ID']}")).status_code == 404


async def test_a_message_id_already_kept_is_accepted_and_not_kept_twice(emulator):
    server, client = emulator
    for _ in range(2):
        await aiosmtplib.send(message("a@example.com", message_id="<same@example.com>"), hostname=server.host,
                              port=server.port)
    assert (await client.get("/api/v1/messages")).json()["total"] == 1


async def test_faults_refuse_and_drop_smtp_commands(emulator):
    # given
    server, client = emulator
    await client.post("/_sandbox/faults", json={"rules": [
        {"method": "RCPT", "path": "refused@", "status": 550},
        {"method": "DATA", "path": "dropped@", "drop": True, "times": 1}]})
    # when / then
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await aiosmtplib.send(message("refused@example.com"), hostname=server.host, port=server.port)
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        await aiosmtplib.send(message("dropped@example.com"), hostname=server.host, port=server.port)
    await aiosmtplib.send(message("dropped@example.com"), hostname=server.host, port=server.port)  # times: 1
    assert [m["To"][0]["Address"] for m in (await client.get("/api/v1/messages")).json()["messages"]] == [
        "dropped@example.com"]


async def test_runs_alone_with_python_m_sandbox_mail():
    port, smtp_port = free_port(), free_port()
    process = subprocess.Popen([sys.executable, "-m", "sandbox.mail", "--port", str(port), "--smtp-port",
                                str(smtp_port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/v1/messages", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        await aiosmtplib.send(message("alone@example.com"), hostname="127.0.0.1", port=smtp_port)
        found = httpx.get(f"http://127.0.0.1:{port}/api/v1/search", params={"query": "to:alone@example.com"}).json()
        assert found["messages_count"] == 1
    finally:
        process.terminate()
        process.wait(timeout=10)
