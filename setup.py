"""setuptools hook (the project is described in pyproject.toml): before an sdist or a wheel is built, install
GraphiQL's npm packages into server/graphiql_assets/ from its package-lock.json when they are missing, so the
package carries the files GraphiQL's page loads and papergraph serves them itself (server/graphiql.py).
Without npm the build goes on, and that GraphiQL loads them from unpkg.com."""

import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ASSETS = Path(__file__).resolve().parent / "server" / "graphiql_assets"


def install_graphiql_assets() -> None:
    if (ASSETS / "node_modules").is_dir() or not (ASSETS / "package-lock.json").is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        print("papergraph: npm not found, GraphiQL's assets are left out (its page will load them from unpkg.com)",
              file=sys.stderr)
        return
    subprocess.run([npm, "ci", "--prefix", str(ASSETS), "--no-audit", "--no-fund", "--ignore-scripts",
                    "--loglevel=error"], check=True)


class BuildPy(build_py):
    def run(self) -> None:
        install_graphiql_assets()
        super().run()


class Sdist(sdist):
    def run(self) -> None:
        install_graphiql_assets()
        super().run()


setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
