"""search indexes (SUB-2, USR-2: staff search by case-insensitive name prefix and e-mail stays fast)

`users(firstName:, lastName:)` matches `lower(first_name) LIKE 'ada%'` and `users(email:)` compares
`lower(email)`: on PostgreSQL these use expression indexes on `lower(...)`, the name ones with
`text_pattern_ops` so a LIKE prefix becomes an index range whatever the database's collation; SQLite gets the
same expressions with its default operator class (it is not the large-data backend).

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0014'
down_revision = '0010'
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
        ops = " text_pattern_ops" if postgresql and "name" in expression else ""
        op.execute(f"CREATE INDEX {name} ON registration (tenant_id, {expression}{ops})")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
