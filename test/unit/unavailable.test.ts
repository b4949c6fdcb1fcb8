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

  it('reads the SQLSTATE Prisma puts in its message: a connection the server terminated is PostgreSQL unavailable', () => {
    // As logged by the bank test when pg_terminate_backend ended a Prisma query's connection.
    const prisma = Object.assign(new Error('\nInvalid `prisma.order.findUnique()` invocation in\n/work/main/services/orders.ts:57:41\n\n'
      + 'Database error. Code: `57P01`. Message: `terminating connection due to administrator command`'), { code: 'P2010' });
    expect(isDependencyUnavailable(prisma)).toBe(true);
    expect(isDependencyUnavailable(Object.assign(new Error('Database error. Code: `23505`. Message: `duplicate key`'), { code: 'P2010' }))).toBe(false);
  });

  it('leaves other errors as faults of ours', () => {
    expect(isDependencyUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isDependencyUnavailable(Object.assign(new Error('invalid input syntax'), { code: '22P02' }))).toBe(false);
  });
});
