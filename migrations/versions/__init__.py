"""Alembic revision scripts (a package so that the wheel carries them)."""
