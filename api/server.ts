// The HTTP front: REST (/v1, for tills and third parties), tRPC (/trpc, for the web app), the
// OpenAPI document and its docs page, and a health check.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifyCookie from '@fastify/cookie';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import { clientRequestId, createRequestContext, newRequestId, SESSION_COOKIE } from './context.ts';
import { inRequest } from '../services/audit.ts';
import type { AppDeps } from './deps.ts';
import type { TrustProxy } from '../infra/config.ts';
import { codeForStatus, errorBody } from './errors.ts';
import { ERROR_STATUS } from '../domain/errors.ts';
import { answerClientError, answerFrameworkError, frameworkRefusal, MAX_PARAM_LENGTH, refuseLongUrls } from './http-refusals.ts';
import { openApiDocument } from './openapi.ts';
import { registerRestRoutes } from './rest.ts';
import { scopeRequestIds } from './request-scope.ts';
import { traceRequests } from './tracing.ts';
import { registerPurchaseRoutes } from './routes/purchases.ts';
import { registerStatementRoutes } from './routes/statements.ts';
import { registerExportRoutes } from './routes/exports.ts';
import { registerCardBatchPrintRoutes } from './routes/card-batch-print.ts';
import { registerReminderRoutes } from './routes/reminders.ts';
import { registerImportRoutes } from './routes/imports.ts';
import { registerSettlementRoutes } from './routes/settlement.ts';
import { registerObservability } from './observability.ts';
import { pingPostgres } from '../infra/health.ts';
import { createLogger } from '../infra/logger.ts';
import { appRouter } from './router.ts';
import { syncVelocityDefaults } from '../services/fraud-limits.ts';

const require = createRequire(import.meta.url);

export interface ServerOptions {
  logger?: boolean;
  publicUrl?: string;
  /** Built web app to serve at / (shop) and /pos; default web/dist when it exists. */
  webRoot?: string | null;
  /** True once the process is shutting down: readiness fails so load balancers stop sending. */
  isDraining?: () => boolean;
}

const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../web/dist', import.meta.url));
const API_PATHS = /^\/(v1|trpc|docs|openapi\.json|health)(\/|$|\?)/;

export async function buildServer(deps: AppDeps, options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // JSON lines, secrets scrubbed; one line per request is written by the observability hook.
    ...(options.logger ? { loggerInstance: createLogger('api') as FastifyBaseLogger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    genReqId: () => newRequestId(),
    requestIdHeader: false,
    trustProxy: fastifyTrustProxy(deps.config.trustProxy),
    // A slow or silent client cannot hold a connection (and its memory) for ever.
    requestTimeout: deps.config.timeouts.httpRequestMs,
    connectionTimeout: deps.config.timeouts.httpConnectionMs,
    keepAliveTimeout: deps.config.timeouts.httpKeepAliveMs,
    // Node 20 reads the request deadline only when the server is created (Fastify sets it later,
    // too late to count), and checks it every 30 s by default, which would stretch a short one.
    http: {
      requestTimeout: deps.config.timeouts.httpRequestMs,
      headersTimeout: deps.config.timeouts.httpRequestMs,
      connectionsCheckingInterval: Math.min(1_000, deps.config.timeouts.httpRequestMs),
    },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  refuseLongUrls(app);
  scopeRequestIds(app);
  traceRequests(app);

  app.addHook('onSend', async (req, reply) => {
    reply.header('request-id', req.id);
  });
  // Just before the handler (body parsing loses async context): audit entries pick the ids up.
  app.addHook('preHandler', (req, _reply, done) =>
    inRequest({ requestId: req.id, clientRequestId: clientRequestId(req.headers['x-request-id']) }, done));

  // The till's velocity limits are enforced in the database: it counts with the configured defaults.
  await syncVelocityDefaults(deps.db.pool, deps.config.fraud.velocity, deps.config.clearingTimeZone)
    .catch((err) => app.log.warn({ err }, 'velocity limit defaults not written; the database keeps the previous ones'));

  parseJsonBodies(app);

  answerErrors(app);
  const webRoot = options.webRoot === undefined ? (existsSync(DEFAULT_WEB_ROOT) ? DEFAULT_WEB_ROOT : null) : options.webRoot;
  serveWebAppPages(app, webRoot);

  registerObservability(app, deps, options.isDraining);
  await app.register(fastifyCookie);
  registerRestRoutes(app, appRouter, deps);
  await registerPurchaseRoutes(app, deps);
  await registerStatementRoutes(app, deps);
  await registerExportRoutes(app, deps);
  await registerCardBatchPrintRoutes(app, deps);
  await registerReminderRoutes(app, deps);
  await registerImportRoutes(app, deps);
  await registerSettlementRoutes(app, deps);

  await registerTrpc(app, deps);

  const publicUrl = options.publicUrl ?? `http://${deps.config.host}:${deps.config.port}`;
  await registerDocs(app, publicUrl);

  if (webRoot) {
    await app.register(fastifyStatic, { root: webRoot, prefix: '/', decorateReply: false, wildcard: false, index: ['index.html'] });
  }

  registerHealth(app, deps);

  return app;
}

/** JSON bodies: an empty body is "no input" (e.g. POST .../void), malformed JSON is a 400. */
function parseJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  // Bodies are JSON: text/plain is 415 like any other type, not a string the routes must refuse.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      const err = new Error('the body is not valid JSON') as FastifyError;
      err.code = 'FST_ERR_CTP_INVALID_JSON_BODY';
      err.statusCode = 400;
      done(err, undefined);
    }
  });
}

/** Refusals answer with their stable code; anything else is a logged 500 with the request id to quote. */
function answerErrors(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const known = frameworkRefusal(err);
    if (known) return reply.code(known.status).send(errorBody(known.code, known.message, req.id));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      const code = codeForStatus(err.statusCode) ?? 'validation_error';
      return reply.code(ERROR_STATUS[code]).send(errorBody(code, err.message, req.id));
    }
    req.log.error({ err }, 'unhandled error');
    return reply.code(500).send(errorBody('internal_error', 'internal error; quote the request id to support', req.id));
  });
}

function serveWebAppPages(app: FastifyInstance, webRoot: string | null): void {
  app.setNotFoundHandler((req, reply) => {
    // The web app routes on the client: any other page path gets its index.html.
    if (webRoot && req.method === 'GET' && !API_PATHS.test(req.url) && !/\.\w+$/.test(req.url.split('?')[0]!)) {
      return reply.type('text/html').sendFile('index.html', webRoot);
    }
    reply.code(404).send(errorBody('not_found', `no route for ${req.method} ${req.url.split('?')[0]}`, req.id));
  });
}

async function registerTrpc(app: FastifyInstance, deps: AppDeps): Promise<void> {
  // The portal's session: httpOnly (no script reads it), SameSite=Strict (no other site sends it),
  // Secure whenever the portal is served over HTTPS.
  const cookieOptions = {
    path: '/', httpOnly: true, sameSite: 'strict' as const, secure: deps.config.publicUrl.startsWith('https:'),
    maxAge: 12 * 3600,
  };
  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: {
      router: appRouter,
      createContext: ({ req, res }: { req: FastifyRequest; res: FastifyReply }) =>
        createRequestContext(deps, req.id, req.headers, req.ip, {
          token: req.cookies[SESSION_COOKIE] ?? null,
          cookie: {
            set: (token) => void res.setCookie(SESSION_COOKIE, token, cookieOptions),
            clear: () => void res.clearCookie(SESSION_COOKIE, { path: '/' }),
          },
        }),
    },
  });
}

async function registerDocs(app: FastifyInstance, publicUrl: string): Promise<void> {
  app.get('/openapi.json', async () => openApiDocument(publicUrl));

  await app.register(fastifyStatic, {
    root: dirname(require.resolve('swagger-ui-dist/package.json')),
    prefix: '/docs/assets/',
  });
  app.get('/docs', async (_req, reply) => reply.type('text/html').send(DOCS_PAGE));
}

function registerHealth(app: FastifyInstance, deps: AppDeps): void {
  app.get('/health', async (_req, reply) => {
    try {
      await pingPostgres(deps.db.pool);
      return { status: 'ok', cache: deps.cache.enabled ? 'on' : 'off', temporal: deps.temporal ? 'connected' : 'connecting' };
    } catch {
      return reply.code(503).send(errorBody('service_unavailable', 'database unreachable', _req.id));
    }
  });
}

/** A hop count trusts that many proxies nearest to us, whatever their address (proxy-addr semantics). */
function fastifyTrustProxy(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return trust;
}

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Voucher engine API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs' });</script>
</body></html>`;
