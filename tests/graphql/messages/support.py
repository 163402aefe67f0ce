"""Helpers of the message tests: a tenant of the test's own with papergraph's default templates and its own
front-end URL, and the mail emulator's inbox read over its HTTP API (Mailpit's shape)."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import parse_qs, urlparse

import httpx
import sqlalchemy as sa
from sqlmodel import select

from datasources.models import MessageOutbox, MessageTemplate
from messages.render import default_templates

FRONT_END = "https://read.example.test/paper"
WAIT_SECONDS = 10.0


async def messaging_tenant(own_tenant, *, kind: str = "NCS", settings: dict[str, str] | None = None,
                           without: tuple[str, ...] = ()):
    tenant = await own_tenant(kind, settings={"Site.FrontEndUrl": FRONT_END, **(settings or {})})
    return await with_templates(tenant, without=without)


async def with_templates(tenant, *, without: tuple[str, ...] = ()):
    """The tenant with papergraph's default templates (but `without`) and its own front-end URL."""
    await tenant.set("Site.FrontEndUrl", FRONT_END)
    await tenant.add(*[MessageTemplate(tenant_id=tenant.id, event_type=event_type, subject=subject, text_body=text,
                                       html_body=html)
                       for event_type, (subject, text, html) in default_templates().items() if event_type not in without])
    return tenant


class Inbox:
    def __init__(self, app) -> None:
        self.mail = app.state.sandboxes["mail"]
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.mail), base_url="http://mail.sandbox")

    async def to(self, address: str) -> list[dict]:
        answer = await self.client.get("/api/v1/search", params={"query": f"to:{address}"})
        answer.raise_for_status()
        return answer.json()["messages"]

    async def read(self, message_id: str) -> dict:
        answer = await self.client.get(f"/api/v1/message/{message_id}")
        answer.raise_for_status()
        return answer.json()

    async def wait_for(self, address: str, count: int = 1) -> list[dict]:
        """The messages to `address` once there are `count` of them (newest first), read in full."""
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        while True:
            found = await self.to(address)
            if len(found) >= count:
                return [await self.read(item["ID"]) for item in found]
            assert asyncio.get_running_loop().time() < deadline, f"no mail to {address} (have {len(found)})"
            await asyncio.sleep(0.02)

    async def faults(self, *rules: dict) -> None:
        (await self.client.post("/_sandbox/faults", json={"rules": list(rules)})).raise_for_status()

    def smtp_commands(self, command: str, address: str) -> int:
        return sum(1 for r in self.mail.state.control.requests if r["method"] == command and address in r["path"])


def link_in(message: dict, path: str) -> str:
    """The one link to FRONT_END/`path` in the text part; the HTML part carries the same link."""
    links = set(re.findall(re.escape(f"{FRONT_END}/{path}") + r"\?[^\s\"<]+", message["Text"]))
    assert len(links) == 1, (links, message["Text"])
    link = links.pop()
    assert link.replace("&", "&amp;") in message["HTML"] or link in message["HTML"]
    return link


async def redeem_ticket(app, text: str, password: str) -> int:
    """Posts the reset page's form of the Auth0 change-password ticket `text` carries (the emulator's `/lo/reset`);
    → the HTTP status (200 or a redirect: the password was set; 400: the ticket is spent or unknown)."""
    [url] = re.findall(r"https?://\S+/lo/reset\?ticket=[^\s#\"<]+", text)
    auth0 = app.state.sandboxes["auth0"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=auth0), base_url="http://auth0.sandbox") as client:
        answer = await client.post("/lo/reset", data={"ticket": query_of(url)["ticket"], "newPassword": password})
    return answer.status_code


def query_of(link: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(link).query).items()}


async def outbox(services, tenant) -> list[MessageOutbox]:
    async with services.db.session() as session:
        return list((await session.execute(select(MessageOutbox).where(MessageOutbox.tenant_id == tenant.id)
                                           .order_by(MessageOutbox.id))).scalars())


__all__ = ["FRONT_END", "Inbox", "link_in", "messaging_tenant", "outbox", "query_of", "redeem_ticket", "sa",
           "with_templates"]
