"""payment ledger: explicit states, the plan to finish an attempt, one attempt per idempotency key;
hosted payment sessions (PAY-4, PM-5, GW-1, NOT-1)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import datasources.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('option_term', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('option_tax', datasources.models.Money(precision=20, scale=2), nullable=False, server_default='0.00'))
        batch_op.add_column(sa.Column('plan', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('error_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('error_message', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
        batch_op.add_column(sa.Column('charged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint('uq_payment_tenant_idempotency_key', ['tenant_id', 'idempotency_key'])
        batch_op.create_index('ix_payment_window', ['tenant_id', 'subscription_id', 'created_at'], unique=False)
    op.create_table('payment_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('group_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('subscription_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('payment_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('profile_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'session_id')
    )
    with op.batch_alter_table('payment_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_session_tenant_id'), ['tenant_id'], unique=False)
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_record_state_created', ['state', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_record_state_created')
    with op.batch_alter_table('payment_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_session_tenant_id'))
    op.drop_table('payment_session')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_window')
        batch_op.drop_constraint('uq_payment_tenant_idempotency_key', type_='unique')
        for column in ('finished_at', 'charged_at', 'last_error', 'error_message', 'error_code', 'attempts', 'plan',
                       'option_tax', 'option_term'):
            batch_op.drop_column(column)
