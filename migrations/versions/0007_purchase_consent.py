"""purchase consent: who started a payment session (BUY-11), anonymous purchases waiting to be claimed (BUY-10)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payment_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('started_by', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=True))
        batch_op.create_index('ix_payment_session_profile', ['tenant_id', 'profile_id'], unique=False)
    op.create_table('pending_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by_registration_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['claimed_by_registration_id'], ['registration.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'subscription_id')
    )
    with op.batch_alter_table('pending_claim', schema=None) as batch_op:
        batch_op.create_index('ix_pending_claim_email', ['tenant_id', 'email'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pending_claim', schema=None) as batch_op:
        batch_op.drop_index('ix_pending_claim_email')
    op.drop_table('pending_claim')
    with op.batch_alter_table('payment_session', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_session_profile')
        batch_op.drop_column('started_by')
