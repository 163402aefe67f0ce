"""The browser demo's static files (HTML, JavaScript, CSS), served at /demo by server/demo.py; a package so that
the wheel carries them."""
