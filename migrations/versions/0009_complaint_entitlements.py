"""temporary entitlements tied to the event that granted them (CMP-2: a complaint resolved with e-edition access)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 00:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('temporary_entitlement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_temporary_entitlement_event_id', 'event', ['event_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('temporary_entitlement', schema=None) as batch_op:
        batch_op.drop_constraint('fk_temporary_entitlement_event_id', type_='foreignkey')
        batch_op.drop_column('event_id')
