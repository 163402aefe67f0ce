"""offer entitlements: which entitlements a subscription to an offer includes (ENT-2)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('offer_entitlement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('entitlement_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('offer_id', 'entitlement_code')
    )
    with op.batch_alter_table('offer_entitlement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_entitlement_offer_id'), ['offer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('offer_entitlement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_entitlement_offer_id'))
    op.drop_table('offer_entitlement')
