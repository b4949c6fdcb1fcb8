// Which failures are the dependencies' (503, retry) rather than ours (500).

import { describe, expect, it } from 'vitest';
import { WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { isDependencyUnavailable } from '../../api/unavailable.ts';

describe('isDependencyUnavailable', () => {
  it('counts an update call past its deadline as Temporal unavailable, whether the client saw DEADLINE_EXCEEDED or CANCELLED', () => {
    // What the Temporal client throws when a shop order's update-with-start outlives its deadline
    // (seen as a 500 with no worker running): the gRPC cause is sometimes CANCELLED.
    for (const [code, name] of [[1, 'CANCELLED'], [4, 'DEADLINE_EXCEEDED']] as const) {
      const grpc = Object.assign(new Error(`${code} ${name}: Call cancelled`), { code, details: 'Call cancelled' });
      expect(isDependencyUnavailable(new WorkflowUpdateRPCTimeoutOrCancelledError('Call cancelled', { cause: grpc }))).toBe(true);
    }
  });

  it('counts a statement past its timeout and a deadlock victim as PostgreSQL unavailable (retry with the same key)', () => {
    expect(isDependencyUnavailable(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }))).toBe(true);
    expect(isDependencyUnavailable(Object.assign(new Error('deadlock detected'), { code: '40P01' }))).toBe(true);
  });

  it('leaves other errors as faults of ours', () => {
    expect(isDependencyUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isDependencyUnavailable(Object.assign(new Error('invalid input syntax'), { code: '22P02' }))).toBe(false);
  });
});
