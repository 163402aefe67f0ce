"""messages (outbox, templates), papergraph's signing keys and sessions, invitations (MSG, SSN, INV)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('message_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('event_type', String(length=32), nullable=False),
    sa.Column('subject', String(length=500), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'event_type')
    )
    op.create_index(op.f('ix_message_template_tenant_id'), 'message_template', ['tenant_id'], unique=False)
    op.create_table('message_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('event_type', String(length=32), nullable=False),
    sa.Column('state', String(length=16), nullable=False),
    sa.Column('recipient', String(length=320), nullable=True),
    sa.Column('message_id', String(length=255), nullable=True),
    sa.Column('subject', String(length=500), nullable=True),
    sa.Column('text_body', sa.Text(), nullable=True),
    sa.Column('html_body', sa.Text(), nullable=True),
    sa.Column('sealed_data', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('leased_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_message_outbox_due', 'message_outbox', ['state', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_message_outbox_event_id'), 'message_outbox', ['event_id'], unique=False)
    op.create_index(op.f('ix_message_outbox_tenant_id'), 'message_outbox', ['tenant_id'], unique=False)
    op.create_table('signing_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', String(length=64), nullable=False),
    sa.Column('sealed_private_key', sa.Text(), nullable=False),
    sa.Column('public_jwk', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kid')
    )
    op.create_table('refresh_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('family', String(length=64), nullable=False),
    sa.Column('token_hash', String(length=64), nullable=False),
    sa.Column('session_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_refresh_token_family'), 'refresh_token', ['family'], unique=False)
    op.create_index(op.f('ix_refresh_token_registration_id'), 'refresh_token', ['registration_id'], unique=False)
    op.create_index(op.f('ix_refresh_token_tenant_id'), 'refresh_token', ['tenant_id'], unique=False)
    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', String(length=64), nullable=False),
    sa.Column('host_crid', String(length=128), nullable=False),
    sa.Column('email', String(length=320), nullable=False),
    sa.Column('first_name', String(length=100), nullable=True),
    sa.Column('last_name', String(length=100), nullable=True),
    sa.Column('metadata', sa.JSON(), nullable=False),
    sa.Column('state', String(length=16), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_crid', String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_invitation_subscription', 'invitation', ['tenant_id', 'subscription_id', 'state'], unique=False)
    with op.batch_alter_table('registration') as batch:
        batch.add_column(sa.Column('last_logout_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('payment_session') as batch:  # BUY-11: sessions for a new start
        batch.add_column(sa.Column('offer_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('term', String(length=32), nullable=True))
        batch.add_column(sa.Column('used_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payment_session') as batch:
        batch.drop_column('used_at')
        batch.drop_column('term')
        batch.drop_column('offer_id')
    with op.batch_alter_table('registration') as batch:
        batch.drop_column('last_logout_at')
    op.drop_table('invitation')
    op.drop_table('refresh_token')
    op.drop_table('signing_key')
    op.drop_table('message_outbox')
    op.drop_table('message_template')
