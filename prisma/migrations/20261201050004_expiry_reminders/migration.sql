-- Expiry reminders (issue #13): which reminder (days before expiry) each card got, so a rerun of
-- the daily schedule sends nothing twice, and which buyers asked for no more reminders (by the
-- keyed hash of their address, like orders.email_hash: no address in clear).
CREATE TABLE card_expiry_reminders (
  card_id UUID NOT NULL REFERENCES cards (id),
  days_before INTEGER NOT NULL CHECK (days_before > 0),
  -- NULL: passed over because a nearer reminder was due when the card was first looked at.
  sent_at TIMESTAMPTZ(3),
  created_at TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (card_id, days_before)
);

CREATE TABLE reminder_unsubscribes (
  email_hash TEXT PRIMARY KEY,
  created_at TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX cards_active_expires_at_idx ON cards (expires_at) WHERE status = 'active' AND available > 0;
