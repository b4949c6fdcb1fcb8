-- Cancelling a sale (support, for a purchase that cannot be completed): the card's value goes back
-- to the sale's source account and the card is blocked. Only an untouched card can be cancelled;
-- one that was loaded, redeemed, held or expired has a history that a refund to the buyer would
-- contradict. Clearing nets cancellations against sales.

CREATE FUNCTION ledger_cancel_sale(p_scope text, p_key text, p_request_hash text, p_card uuid)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_prior jsonb;
  v_card cards;
  v_sale journal_entries;
  v_source postings;
  v_entry bigint;
BEGIN
  v_prior := idempotency_claim(p_scope, p_key, p_request_hash);
  IF v_prior IS NOT NULL THEN RETURN v_prior; END IF;

  SELECT * INTO v_card FROM cards WHERE id = p_card FOR UPDATE;
  IF NOT FOUND THEN PERFORM ledger_refuse('card_not_found', 'no such card'); END IF;
  IF EXISTS (SELECT 1 FROM journal_entries WHERE card_id = p_card AND kind <> 'issue') THEN
    PERFORM ledger_refuse('card_in_use',
      'the card has been used since its sale (loaded, held, redeemed or expired); its sale can no longer be cancelled');
  END IF;
  SELECT * INTO v_sale FROM journal_entries WHERE card_id = p_card AND kind = 'issue';
  SELECT * INTO v_source FROM postings
   WHERE entry_id = v_sale.id AND account_kind IN ('store_sales', 'provider_clearing');
  v_entry := ledger_post('cancel_sale', v_card.currency, v_card.id, NULL, v_sale.store_id, NULL,
    ARRAY[v_source.account_kind, 'card_available']::account_kind[],
    ARRAY[v_source.account_ref, v_card.id::text],
    ARRAY[-v_source.amount, v_source.amount]);
  UPDATE cards SET status = 'blocked', available = available + v_source.amount, version = version + 1, updated_at = now()
   WHERE id = p_card RETURNING * INTO v_card;
  RETURN idempotency_store(p_scope, p_key, p_request_hash,
    card_json(v_card) || jsonb_build_object('entryId', v_entry, 'amount', -v_source.amount));
END $$;

-- Movements and positions as before, with cancelled sales netted against sales.
CREATE OR REPLACE FUNCTION ledger_movements(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (currency char(3), party_key text, issuer_key text, kind entry_kind, entries bigint, total bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT x.currency,
         coalesce(s.billing_party_id::text, 'scheme'),
         CASE WHEN x.kind IN ('capture', 'refund') THEN coalesce(si.billing_party_id::text, 'scheme') END,
         x.kind, sum(x.entries)::bigint, sum(x.total)::bigint
    FROM (
      SELECT p.currency,
             CASE WHEN p.account_kind IN ('store_sales', 'store_redemptions') THEN e.store_id END AS store_id,
             e.kind, e.issuer_store_id, count(*) AS entries, sum(p.amount) AS total
        FROM journal_entries e
        JOIN postings p ON p.entry_id = e.id
       WHERE e.booked_at >= p_from AND e.booked_at < p_to
         AND e.kind IN ('issue', 'load', 'cancel_sale', 'capture', 'refund', 'expire_card')
         AND p.account_kind IN ('store_sales', 'store_redemptions', 'provider_clearing', 'breakage')
       GROUP BY 1, 2, 3, 4
    ) x
    LEFT JOIN stores s ON s.id = x.store_id
    LEFT JOIN stores si ON si.id = x.issuer_store_id
   GROUP BY 1, 2, 3, 4;
$$;

CREATE OR REPLACE FUNCTION ledger_positions_of(p_moves jsonb)
RETURNS TABLE (currency char(3), party_key text, sales_count bigint, sales_amount bigint,
  redemptions_count bigint, redemptions_amount bigint, refunds_count bigint, refunds_amount bigint,
  breakage_count bigint, breakage_amount bigint, liability_change bigint, net bigint)
LANGUAGE sql IMMUTABLE AS $$
  WITH m AS (
    SELECT * FROM jsonb_to_recordset(coalesce(p_moves, '[]'))
      AS t(currency char(3), party_key text, issuer_key text, kind entry_kind, entries bigint, total bigint)
  ),
  per_party AS (
    SELECT m.currency, m.party_key,
      (coalesce(sum(m.entries) FILTER (WHERE m.kind IN ('issue', 'load')), 0)
        - coalesce(sum(m.entries) FILTER (WHERE m.kind = 'cancel_sale'), 0))::bigint AS sales_count,
      coalesce(-sum(m.total) FILTER (WHERE m.kind IN ('issue', 'load', 'cancel_sale')), 0)::bigint AS sales_amount,
      coalesce(sum(m.entries) FILTER (WHERE m.kind = 'capture'), 0)::bigint AS redemptions_count,
      coalesce(sum(m.total) FILTER (WHERE m.kind = 'capture'), 0)::bigint AS redemptions_amount,
      coalesce(sum(m.entries) FILTER (WHERE m.kind = 'refund'), 0)::bigint AS refunds_count,
      coalesce(-sum(m.total) FILTER (WHERE m.kind = 'refund'), 0)::bigint AS refunds_amount,
      coalesce(sum(m.entries) FILTER (WHERE m.kind = 'expire_card'), 0)::bigint AS breakage_count,
      coalesce(sum(m.total) FILTER (WHERE m.kind = 'expire_card'), 0)::bigint AS breakage_amount,
      sum(m.total)::bigint AS moved
      FROM m GROUP BY m.currency, m.party_key
  ),
  liability AS (SELECT pp.currency, -sum(pp.moved)::bigint AS change FROM per_party pp GROUP BY pp.currency)
  SELECT pp.currency, pp.party_key, pp.sales_count, pp.sales_amount, pp.redemptions_count,
         pp.redemptions_amount, pp.refunds_count, pp.refunds_amount, pp.breakage_count, pp.breakage_amount,
         0::bigint, pp.moved
    FROM per_party pp WHERE pp.party_key <> 'scheme'
  UNION ALL
  SELECT l.currency, 'scheme', coalesce(pp.sales_count, 0), coalesce(pp.sales_amount, 0), 0, 0, 0, 0,
         coalesce(pp.breakage_count, 0), coalesce(pp.breakage_amount, 0), l.change,
         (coalesce(pp.moved, 0) + l.change)::bigint
    FROM liability l LEFT JOIN per_party pp ON pp.currency = l.currency AND pp.party_key = 'scheme';
$$;
