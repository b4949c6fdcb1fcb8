// The API and worker as production runs them: separate processes that serve their metrics and
// health, and shut down gracefully on SIGTERM (a request in flight is answered, then the process
// exits 0).

import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCard, processEnv, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { unusedPort } from '../helpers/net.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let h: Harness;
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await h?.close();
});

function start(script: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...processEnv(h), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function answers(url: string): Promise<Response | undefined> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(2_000) });
  } catch {
    return undefined;
  }
}

describe('API process', () => {
  it('answers a request in flight after SIGTERM, then refuses new connections and exits 0', async () => {
    const port = await unusedPort();
    const api = start('scripts/api.ts', { PORT: String(port), SHUTDOWN_GRACE_MS: '10000' });
    await waitFor(async () => (await answers(`http://127.0.0.1:${port}/health/live`))?.ok, 60_000, 200);
    const ready = await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json();
    expect(ready.checks.postgres.status).toBe('up');

    const card = await issueCard(h, 1_500);
    const body = JSON.stringify({ code: card.code });
    // Headers and half the body now; the rest after SIGTERM: the request is in flight meanwhile.
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let response = '';
    socket.on('data', (d) => (response += d));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(`POST /v1/cards/lookup HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.terminalA.apiKey}\r\n`
      + `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, 5)}`);
    await new Promise((r) => setTimeout(r, 200));
    api.child.kill('SIGTERM');
    await waitFor(async () => api.output().includes('SIGTERM: draining'), 10_000, 50);
    expect(await answers(`http://127.0.0.1:${port}/health/live`)).toBeUndefined();
    socket.write(body.slice(5));
    await closed;
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response).toContain(`"last4":"${card.code.slice(-4)}"`);
    expect(await api.exited).toBe(0);

    // JSON lines: the request with its id, route, status and latency; no secret anywhere.
    // Node's own warnings (stderr) are not ours to format.
    const lines = api.output().trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ name: 'api', msg: 'stopped' });
    const request = lines.find((l) => l.msg === 'request' && l.route === '/v1/cards/lookup');
    expect(request).toMatchObject({ method: 'POST', status: 200, reqId: expect.stringMatching(/^req_/), ms: expect.any(Number) });
    for (const secret of [card.code, card.code.replace(/-/g, ''), h.terminalA.apiKey]) expect(api.output()).not.toContain(secret);
  });
});

describe('worker process', () => {
  it('serves its metrics (with the Temporal SDK\'s) and health, and exits 0 on SIGTERM', async () => {
    const [opsPort, sdkPort] = [await unusedPort(), await unusedPort()];
    const worker = start('scripts/worker.ts', {
      WORKER_OPS_PORT: String(opsPort), TEMPORAL_METRICS_BIND: `127.0.0.1:${sdkPort}`,
      TEMPORAL_TASK_QUEUE: `lifecycle-${randomUUID()}`, SHUTDOWN_GRACE_MS: '5000',
    });
    const ops = `http://127.0.0.1:${opsPort}`;
    await waitFor(async () => (await answers(`${ops}/health/ready`))?.ok, 90_000, 250);
    const ready = await (await fetch(`${ops}/health/ready`)).json();
    expect(ready).toMatchObject({ status: 'ready', checks: { postgres: { status: 'up' }, temporal: { status: 'up' } } });
    expect((await fetch(`${ops}/health/live`)).status).toBe(200);
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`${ops}/metrics`)).text();
      return /^temporal_\w+/m.test(text) ? text : undefined;
    }, 30_000, 500);
    expect(metrics).toMatch(/^voucher_outbox_rows \d+/m);
    expect(metrics).toMatch(/^voucher_holds_overdue_seconds /m);
    expect(metrics).toMatch(/^temporal_\w+/m);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const lines = worker.output().trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.name === 'worker' && String(l.msg).startsWith('SIGTERM: stopping'))).toBe(true);
  }, 120_000);

  it('exits on a SIGTERM that arrives while it is still starting (Temporal\'s runtime must not swallow it)', async () => {
    const worker = start('scripts/worker.ts', {
      WORKER_OPS_PORT: '0', TEMPORAL_TASK_QUEUE: `lifecycle-${randomUUID()}`, SHUTDOWN_GRACE_MS: '5000',
    });
    // Its first log line comes after Temporal's runtime is installed and before the engine polls.
    await waitFor(async () => worker.output().includes(' mode'), 60_000, 20);
    worker.child.kill('SIGTERM');
    const exited = await Promise.race([worker.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 60_000))]);
    expect(exited).toBe(0);
    const lines = worker.output().trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.name === 'worker' && /^SIGTERM (while starting|: stopping)/.test(String(l.msg)))).toBe(true);
  }, 120_000);
});
