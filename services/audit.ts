// The audit log: who did what to which subject, from which request. Written by every back-office
// action; read by admins.

import type pg from 'pg';

export interface AuditEvent {
  actor: string;
  action: string;
  subject: string;
  details?: Record<string, unknown>;
  requestId?: string | null;
}

export async function audit(pool: pg.Pool, e: AuditEvent): Promise<void> {
  await pool.query(
    'INSERT INTO audit_entries (actor, action, subject, details, request_id) VALUES ($1, $2, $3, $4, $5)',
    [e.actor, e.action, e.subject, JSON.stringify(e.details ?? {}), e.requestId ?? null]);
}
