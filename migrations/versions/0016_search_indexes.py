"""search indexes (SUB-2, USR-2: staff search by case-insensitive name prefix and e-mail stays fast)

`users(firstName:, lastName:)` matches a prefix as a range, `lower(last_name) >= 'and'` and `< 'and' || U+10FFFF`,
and `users(email:)` compares `lower(email)`. On PostgreSQL the name indexes are on `lower(...) COLLATE "C"`
(byte order, like the statement's comparison, whatever the database's collation), so the range is an index range
even in a generic plan with bound parameters — a `LIKE $1` pattern would not be; SQLite compares bytes already.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

INDEXES = {
    "ix_registration_first_name_prefix": "lower(first_name)",
    "ix_registration_last_name_prefix": "lower(last_name)",
    "ix_registration_email_lower": "lower(email)",
}


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, expression in INDEXES.items():
        if postgresql and "name" in expression:
            expression = f'({expression} COLLATE "C")'
        op.execute(f"CREATE INDEX {name} ON registration (tenant_id, {expression})")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
