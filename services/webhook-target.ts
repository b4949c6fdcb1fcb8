// Where a webhook may be sent, and sending it.
//
// A registered URL is input from outside: without care it lets whoever registers it make the
// engine call its own network (server-side request forgery: the cloud metadata service, the
// database, an admin port on loopback). Outside development only public unicast addresses are
// called. The check is made on the addresses DNS gives at the moment of the call, and the
// connection goes to exactly the address that was checked (no second lookup a rebinding DNS
// server could answer differently). Redirects are never followed: a 3xx is a failed attempt.

import http from 'node:http';
import https from 'node:https';
import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { DomainError } from '../domain/errors.ts';

export interface TargetPolicy {
  /** Development and test: loopback and private addresses are allowed (a receiver on this machine). */
  allowPrivateAddresses: boolean;
  /** Outside development only https URLs are registered. */
  requireHttps: boolean;
}

/** Only public unicast addresses: no loopback, private, link-local, CGNAT, multicast, reserved, NAT64 … */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/** Checks a URL when it is registered; the address check is repeated at every call. */
export function checkEndpointUrl(raw: string, policy: TargetPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DomainError('validation_error', 'the endpoint URL is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new DomainError('validation_error', 'the endpoint URL must be http(s)');
  if (policy.requireHttps && url.protocol !== 'https:') throw new DomainError('validation_error', 'the endpoint URL must use https');
  if (url.username || url.password) throw new DomainError('validation_error', 'the endpoint URL must not carry credentials');
  if (url.hash) throw new DomainError('validation_error', 'the endpoint URL must not have a fragment');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!policy.allowPrivateAddresses) {
    if (isIP(host) && !isPublicAddress(host)) throw new DomainError('validation_error', 'the endpoint URL points to a private or reserved address');
    if (/^localhost$|\.localhost$|\.local$|\.internal$/i.test(host)) throw new DomainError('validation_error', 'the endpoint URL points to a local name');
  }
  return url;
}

export class RefusedTargetError extends Error {
  readonly code = 'ssrf_refused';
}

/** Resolves the host and refuses (unless allowed) any address that is not public unicast. */
export async function resolveTarget(host: string, allowPrivate: boolean): Promise<{ address: string; family: number }> {
  const bare = host.replace(/^\[|\]$/g, '');
  const addresses = isIP(bare) ? [{ address: bare, family: isIP(bare) }] : await lookup(bare, { all: true, verbatim: true });
  if (addresses.length === 0) throw new Error(`${host} does not resolve`);
  if (!allowPrivate) {
    // Every address must be public: a name that also resolves to 10.0.0.1 is refused outright,
    // rather than hoping the connection picks the public one.
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad) throw new RefusedTargetError(`${host} resolves to ${bad.address}, a private or reserved address`);
  }
  return addresses[0]!;
}

export interface PostResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * One POST with a bounded total time (connect, TLS, headers and body of the answer). The answer's
 * body is not kept beyond its first KiB; 2xx is success, anything else (3xx included) is not.
 */
export async function postJson(
  rawUrl: string, body: string, headers: Record<string, string>, opts: { timeoutMs: number; allowPrivate: boolean },
): Promise<PostResult> {
  const started = Date.now();
  const url = new URL(rawUrl);
  let target: { address: string; family: number };
  try {
    target = await withTimeout(resolveTarget(url.hostname, opts.allowPrivate), opts.timeoutMs, 'DNS lookup timed out');
  } catch (err) {
    return { statusCode: null, error: (err as Error).message, durationMs: Date.now() - started };
  }
  const pinned: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else callback(null, target.address, target.family);
  };
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<PostResult>((resolve) => {
    let settled = false;
    const finish = (r: Omit<PostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, durationMs: Date.now() - started });
    };
    const req = transport.request(url, {
      method: 'POST', lookup: pinned, agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'voucher-engine-webhooks/1', ...headers },
    }, (res) => {
      let seen = 0;
      res.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > 1024) res.destroy();
      });
      const done = () => {
        const code = res.statusCode ?? 0;
        finish({ statusCode: code, error: code >= 200 && code < 300 ? null : `HTTP ${code}` });
      };
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    req.on('error', (err) => finish({ statusCode: null, error: err.message }));
    req.end(body);
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}
