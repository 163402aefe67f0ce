"""GraphiQL that works offline: its assets served by papergraph itself, and a visible message when they cannot load.

strawberry's GraphiQL page (strawberry/static/graphiql.html, pinned with strawberry) loads React, ReactDOM,
js-cookie, GraphiQL and its explorer plugin from unpkg.com, each with an `integrity` attribute; behind a firewall
it hung on "Loading..." with no hint. Here the same page is served with those URLs pointing at `/graphiql/…`,
answered from the very npm packages and versions the page names, installed by `make install` with `npm ci` from
`server/graphiql_assets/package-lock.json` (the wheel carries just the files the page loads). The bytes are
npm's, so the page's integrity attributes still hold and the browser checks every one.

When the packages are not installed (no npm on the machine), the page keeps unpkg's URLs. Either way a small
script after the asset tags replaces "Loading..." with a message naming what failed and what to do, when a
script did not load or failed its integrity check.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route
from strawberry.http.ides import get_graphql_ide_html

log = logging.getLogger("papergraph")

ASSETS_DIR = Path(__file__).resolve().parent / "graphiql_assets"  # package.json, package-lock.json, node_modules/
PREFIX = "/graphiql/"
UNPKG = "https://unpkg.com/"
ASSET_URL = re.compile(r'https://unpkg\.com/((?:@[^/"]+/)?[^@/"]+)@([^/"]+)/([^"]+)')
# where the page's own script starts: the check goes just before it
PAGE_SCRIPT = "    <script>\n      const EXAMPLE_QUERY"
CONTENT_TYPES = {".js": "application/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

# Runs after the asset tags (scripts in the body load in order, failed ones included), before the page's script.
FALLBACK = """    <script>
      (function () {
        var missing = [["React", window.React], ["ReactDOM", window.ReactDOM], ["js-cookie", window.Cookies],
          ["GraphiQL", window.GraphiQL], ["the explorer plugin", window.GraphiQLPluginExplorer]]
          .filter(function (pair) { return !pair[1]; }).map(function (pair) { return pair[0]; });
        if (!missing.length) return;
        var box = document.getElementById("graphiql");
        box.className = "";
        box.setAttribute("role", "alert");
        box.style.cssText = "display:block;font:16px/1.5 system-ui,sans-serif;padding:2em;max-width:48em";
        box.innerHTML = "<h1>GraphiQL could not load</h1><p>These scripts did not load (blocked, unreachable, or "
          + "failing their integrity check): <b>" + missing.join(", ") + "</b>, from <code>__SOURCE__</code>.</p>"
          + "<p>papergraph serves them itself once they are installed: run <code>make install</code> (it runs "
          + "<code>npm ci</code> in <code>server/graphiql_assets/</code>), or install papergraph from its wheel, "
          + "which carries them. The GraphQL endpoint itself works: POST your query to <code>"
          + location.pathname + "</code>.</p>";
        window.GraphiQL = undefined;  // the page's script then stops at its first line, before React renders
      })();
    </script>
"""


@dataclass(frozen=True)
class Asset:
    """One file the page loads: an npm package, its version, and the file's path inside the package."""

    package: str
    version: str
    file: str

    @property
    def path(self) -> str:  # under /graphiql/ and under unpkg.com/ alike
        return f"{self.package}@{self.version}/{self.file}"

    def installed_at(self, root: Path) -> Path | None:
        """The file in the installed package, if that package is installed at the page's version."""
        package_dir = root / "node_modules" / self.package
        try:
            version = json.loads((package_dir / "package.json").read_text())["version"]
        except (OSError, ValueError, KeyError):
            return None
        target = package_dir / self.file
        return target if version == self.version and target.is_file() else None


def strawberry_page() -> str:
    return get_graphql_ide_html(graphql_ide="graphiql")


@lru_cache(maxsize=1)
def page_assets() -> tuple[Asset, ...]:
    """The assets strawberry's page loads, in its order."""
    return tuple(Asset(*match.groups()) for match in ASSET_URL.finditer(strawberry_page()))


class GraphiQLAssets:
    """The page and its files. `root` holds the npm packages (node_modules/)."""

    def __init__(self, root: Path = ASSETS_DIR) -> None:
        self.root = root
        self.files = {asset.path: asset.installed_at(root) for asset in page_assets()}
        self.local = bool(self.files) and all(self.files.values())
        if not self.local:
            missing = [path for path, found in self.files.items() if found is None]
            log.warning("GraphiQL's assets are not installed (%s): the page loads them from unpkg.com; run "
                        "`make install` to serve them from papergraph", ", ".join(missing))

    def page(self) -> str:
        html = strawberry_page()
        source = PREFIX if self.local else UNPKG
        if self.local:
            html = html.replace(UNPKG, PREFIX)
        if PAGE_SCRIPT not in html:  # strawberry's page changed shape: still serve it, check or not
            return html
        return html.replace(PAGE_SCRIPT, FALLBACK.replace("__SOURCE__", source) + PAGE_SCRIPT, 1)

    async def endpoint(self, request: Request) -> Response:
        """`/graphiql/<package>@<version>/<file>`: only the files the page loads; cacheable for good (the URL
        names the version)."""
        found = self.files.get(request.path_params["path"])
        if found is None:
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(found, headers={"cache-control": "public, max-age=31536000, immutable",
                                            "content-type": CONTENT_TYPES.get(found.suffix, "application/octet-stream")})

    def routes(self) -> list[Route]:
        return [Route(PREFIX + "{path:path}", self.endpoint, methods=["GET", "HEAD"])]
