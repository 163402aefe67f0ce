"""offer subscription validation flags and address requirements (BUY-6, BUY-7, BUY-8)

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-07 03:00:00

The active-subscription check runs only when an offer sets a validation flag (BUY-6). Before this revision
every offer's check ran (BUY-1), so existing offers with a check criterion get "no existing subscription"
set: their purchases are checked exactly as before (the seed's upgrade scripts do the same for old offers).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0010'
branch_labels = None
depends_on = None

COLUMNS = ('validate_no_existing', 'validate_stopped_recently', 'validate_outstanding_balance',
           'requires_delivery_address', 'requires_billing_address')


def upgrade() -> None:
    with op.batch_alter_table('offer') as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(sa.text(
        "UPDATE offer SET validate_no_existing = :yes WHERE check_last_name = :yes OR check_phone = :yes "
        "OR check_email = :yes OR check_address = :yes OR check_postal_code = :yes").bindparams(yes=True))


def downgrade() -> None:
    with op.batch_alter_table('offer') as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
