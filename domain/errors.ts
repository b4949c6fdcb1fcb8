// Every refusal the engine can give, with one stable machine code and its HTTP status.
// Clients branch on `code`; messages are for people and may change.

export const ERROR_STATUS = {
  validation_error: 400,
  invalid_card_code: 400,
  invalid_period: 400,
  idempotency_key_required: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  insufficient_funds: 402,
  forbidden: 403,
  csrf_token_invalid: 403,
  second_factor_required: 403,
  not_found: 404,
  card_not_found: 404,
  period_not_found: 404,
  statement_not_found: 404,
  hold_not_found: 404,
  hold_not_authorized: 409,
  hold_expired: 409,
  pos_reference_reused: 409,
  card_code_collision: 409,
  card_not_expired: 409,
  card_has_open_holds: 409,
  card_in_use: 409,
  order_not_payable: 409,
  idempotency_key_in_use: 409,
  period_closed: 409,
  user_exists: 409,
  totp_already_enrolled: 409,
  totp_not_enrolled: 409,
  period_not_frozen: 409,
  clearing_in_progress: 409,
  clearing_not_awaiting_approval: 409,
  clearing_not_running: 409,
  store_has_history: 409,
  nothing_to_retry: 409,
  not_cancellable: 409,
  shopper_erased: 409,
  period_not_closed: 409,
  bank_details_change_pending: 409,
  no_pending_bank_details: 409,
  second_approver_required: 409,
  settlement_not_configured: 409,
  settlement_file_not_found: 404,
  bank_statement_wrong_account: 422,
  idempotency_key_reused: 422,
  card_blocked: 422,
  card_expired: 422,
  currency_mismatch: 422,
  amount_exceeds_hold: 422,
  refund_exceeds_captured: 422,
  balance_limit_exceeded: 422,
  velocity_limit_exceeded: 422,
  amount_out_of_range: 422,
  period_not_ended: 422,
  period_in_future: 422,
  invalid_signature: 400,
  invalid_iban: 400,
  invalid_bic: 400,
  invalid_creditor_id: 400,
  invalid_mandate: 400,
  invalid_bank_statement: 400,
  link_expired: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  method_not_allowed: 405,
  request_timeout: 408,
  uri_too_long: 414,
  headers_too_large: 431,
  rate_limited: 429,
  account_locked: 429,
  too_many_attempts: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class DomainError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
    this.status = ERROR_STATUS[code];
  }
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_STATUS, value);
}
