// How a business refusal (DomainError) leaves an activity: as an ApplicationFailure whose type is
// the refusal's stable code, so workflows and retry policies branch on it. One definition for
// every activity.

import { ApplicationFailure } from '@temporalio/common';
import { DomainError } from '../domain/errors.ts';

/**
 * The failure for `err`: a DomainError becomes an ApplicationFailure typed with its code, final
 * (never retried: a refusal does not get better) unless `byPolicy`, where the workflow's retry
 * policy decides by type (its nonRetryableErrorTypes). Anything else is returned as it is.
 */
export function refusalAsFailure(err: unknown, { byPolicy = false } = {}): unknown {
  if (!(err instanceof DomainError)) return err;
  return byPolicy
    ? ApplicationFailure.create({ type: err.code, message: err.message })
    : ApplicationFailure.nonRetryable(err.message, err.code);
}

/** Runs an activity's work; a business refusal fails it for good. */
export async function refusalsFinal<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw refusalAsFailure(err);
  }
}

/** Runs an activity's work; a business refusal fails it typed, and the retry policy decides. */
export async function refusalsByPolicy<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw refusalAsFailure(err, { byPolicy: true });
  }
}
