#!/usr/bin/env node
// Stand-in for Prisma's native `schema-engine` binary, for machines that cannot download it
// from binaries.prisma.sh. Point PRISMA_SCHEMA_ENGINE_BINARY at this file.
//
// The real migration logic is Prisma's own schema engine compiled to WebAssembly
// (@prisma/schema-engine-wasm); this file only does what the native binary's `main` does:
// parse argv, then speak newline-delimited JSON-RPC 2.0 on stdin/stdout. Database access goes
// through @prisma/adapter-pg (see adapter.mjs for the fixes that needs).
//
// Invocations used by the Prisma CLI (7.x, read from node_modules/prisma/build/cli.js):
//   schema-engine --version
//   schema-engine --datasource <json> cli can-connect-to-database|create-database|drop-database
//   schema-engine [--datamodels <file>]... [--datasource <json>]
//                 [--enabled-preview-features a,b] [--extension-types <json>]   -> JSON-RPC

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { adminQuery, createAdapterFactory, parseDatasourceUrl, quoteIdent } from './adapter.mjs';
import { runCliCommand } from './cli-commands.mjs';

const require = createRequire(import.meta.url);
const argv = parseArgv(process.argv.slice(2));

// ---------------------------------------------------------------------------------------------
// Logging. stderr is read by the CLI line by line; JSON lines shaped like the native engine's
// tracing output end up in its error messages, anything else is ignored.

const debugEnabled = Boolean(process.env.PRISMA_SCHEMA_ENGINE_SHIM_DEBUG);

function log(level, message) {
  if (level === 'DEBUG' && !debugEnabled) return;
  process.stderr.write(
    JSON.stringify({ timestamp: new Date().toISOString(), level, fields: { message }, target: 'schema_engine_shim' }) +
      '\n',
  );
}

// ---------------------------------------------------------------------------------------------
// Wasm engine loading. `import '@prisma/schema-engine-wasm'` itself only works with
// --experimental-wasm-modules, so instantiate it by hand exactly like the Prisma CLI's own
// loader (wasmSchemaEngineLoader in @prisma/internals) does: the bindgen glue module is the
// import object, then __wbg_set_wasm + __wbindgen_start.

let wasmRuntime;
function loadWasm() {
  if (wasmRuntime) return wasmRuntime;
  // The glue calls this on a Rust panic; the engine instance is unusable afterwards.
  globalThis.PRISMA_WASM_PANIC_REGISTRY ??= {
    message: '',
    set_message(m) {
      this.message = `RuntimeError: ${m}`;
    },
    get() {
      return this.message;
    },
  };
  const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  return import(gluePath).then((glue) => {
    const module = new WebAssembly.Module(readFileSync(path.join(path.dirname(gluePath), 'schema_engine_bg.wasm')));
    const instance = new WebAssembly.Instance(module, { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    instance.exports.__wbindgen_start();
    return (wasmRuntime = glue);
  });
}

// ---------------------------------------------------------------------------------------------

async function main() {
  if (argv.version) {
    const glue = await loadWasm();
    // The CLI prints this verbatim in `prisma --version` ("Schema Engine : ...").
    process.stdout.write(`schema-engine-cli ${glue.version()} (wasm shim: @prisma/schema-engine-wasm + @prisma/adapter-pg)\n`);
    return 0;
  }
  if (argv.cli) return runCliCommand(argv.cli, argv.datasource);
  if (argv.help) {
    process.stdout.write('Prisma schema engine shim. See scripts/prisma-engine/README.md\n');
    return 0;
  }
  return serveJsonRpc();
}

// ---------------------------------------------------------------------------------------------
// JSON-RPC server.

async function serveJsonRpc() {
  const glue = await loadWasm();
  const datamodels = argv.datamodels.length
    ? argv.datamodels.map((file) => [file, readFileSync(path.resolve(file), 'utf8')])
    : undefined; // must be undefined, not [], when absent
  const mainUrl = argv.datasource?.url;
  const shadowDatabaseUrl = argv.datasource?.shadowDatabaseUrl;

  if (argv.enabledPreviewFeatures.length || argv.extensionTypes) {
    log('WARN', 'preview features / extension types are not forwarded to the Wasm engine');
  }

  // One engine per database URL. The Wasm engine has no notion of a connection string: it
  // works on whatever database its adapter points at, so a request naming another URL
  // (db execute --url, createDatabase, getDatabaseVersion) needs its own engine.
  const engines = new Map(); // `${withDatamodels}:${url}` -> { engine, close }
  async function engineFor(url, { withDatamodels = false } = {}) {
    if (!url) throw userError('No datasource URL was passed to the schema engine (is DATABASE_URL set?).');
    const key = `${withDatamodels}:${url}`;
    if (!engines.has(key)) {
      const { factory, close } = createAdapterFactory({
        url,
        shadowDatabaseUrl: url === mainUrl ? shadowDatabaseUrl : undefined,
        log: (m) => log('INFO', m),
      });
      const engine = await glue.SchemaEngine.new(
        { datamodels: withDatamodels ? datamodels : undefined },
        (line) => log('DEBUG', line),
        factory,
      );
      engines.set(key, { engine, close });
    }
    return engines.get(key).engine;
  }
  const mainEngine = () => engineFor(mainUrl, { withDatamodels: true });

  const urlOf = (ds) => (ds?.tag === 'ConnectionString' ? ds.url : mainUrl);

  // Engine -> CLI requests (only `print` exists). The CLI echoes our id back.
  let nextOutgoingId = 1;
  const pendingOutgoing = new Map();
  function callClient(method, params) {
    const id = `shim-${nextOutgoingId++}`;
    return new Promise((resolve) => {
      pendingOutgoing.set(id, resolve);
      send({ jsonrpc: '2.0', id, method, params });
    });
  }

  const handlers = {
    async diff(params) {
      const result = await (await mainEngine()).diff(params);
      // The native engine prints the diff through a `print` request instead of returning it,
      // and the CLI's binary-engine client does not print `stdout` from the result, so do the
      // same (this also makes `migrate diff --output` capture it).
      if (result?.stdout) {
        await callClient('print', { content: result.stdout.replace(/\n$/, '') });
      }
      return { ...result, stdout: null };
    },
    async dbExecute(params) {
      const ds = params.datasourceType;
      const engine = ds?.tag === 'url' ? await engineFor(ds.url) : await mainEngine();
      await engine.dbExecute(params);
      return null;
    },
    async getDatabaseVersion(params) {
      const url = urlOf(params?.datasource);
      return (await engineFor(url, { withDatamodels: url === mainUrl })).version(params ?? null);
    },
    async createDatabase(params) {
      // Not part of the Wasm engine's API; same operation as `cli create-database`.
      const url = urlOf(params?.datasource);
      const { database, connectionString } = parseDatasourceUrl(url);
      await adminQuery(connectionString, `CREATE DATABASE ${quoteIdent(database)}`);
      return { databaseName: database };
    },
    async getDatabaseDescription() {
      throw userError('getDatabaseDescription is not supported by the Wasm schema engine.');
    },
  };
  for (const method of [
    'applyMigrations',
    'createMigration',
    'devDiagnostic',
    'diagnoseMigrationHistory',
    'ensureConnectionValidity',
    'evaluateDataLoss',
    'introspect',
    'introspectSql',
    'markMigrationApplied',
    'markMigrationRolledBack',
    'reset',
    'schemaPush',
  ]) {
    handlers[method] = async (params) => {
      // Call as a method: detaching it from the engine loses the wasm pointer binding.
      const result = await (await mainEngine())[method](params);
      return result === undefined ? {} : result;
    };
  }
  handlers.debugPanic = async () => (await mainEngine()).debugPanic();

  // In the Wasm build, createMigration and evaluateDataLoss are not given the adapter factory,
  // so they cannot open a shadow database themselves: they only work if the engine's
  // migration-schema cache already holds the schema for this exact migration list. The CLI's
  // `migrate dev` fills it through devDiagnostic, except when the database was behind: then
  // devDiagnostic returns early, the CLI applies the pending migrations, and the next call
  // fails with "PostgreSQL shadow DB must be provided through an external factory". Running
  // devDiagnostic again (now that the database is up to date) replays the history into a
  // shadow database and fills the cache, after which the original call is retried once.
  for (const method of ['createMigration', 'evaluateDataLoss']) {
    handlers[method] = async (params) => {
      const engine = await mainEngine();
      try {
        return await engine[method](params);
      } catch (error) {
        if (!/shadow DB must be provided through an external factory/.test(describe(error))) throw error;
        log('INFO', `${method}: migration-schema cache empty, filling it via devDiagnostic and retrying`);
        const { action } = await engine.devDiagnostic({ migrationsList: params.migrationsList, filters: params.filters });
        if (action?.tag !== 'createMigration') throw error; // drift etc.: let the CLI report the original error
        return await engine[method](params);
      }
    };
  }

  let fatal = false;
  let inFlight; // id of the request being handled, to answer it if the engine dies

  // Temporary shadow databases must not outlive us whichever way we go down.
  let closing;
  function closeAll() {
    closing ??= (async () => {
      for (const { engine, close } of engines.values()) {
        try {
          engine.free();
        } catch {
          /* already freed, or poisoned by a panic */
        }
        await close().catch((e) => log('WARN', `cleanup failed: ${describe(e)}`));
      }
    })();
    return closing;
  }

  // A Rust panic inside a callback the engine scheduled (e.g. while awaiting the adapter)
  // surfaces as an uncaught RuntimeError rather than a rejected promise. Answer the pending
  // request as a panic, clean up, and exit like the native binary does.
  process.on('uncaughtException', async (error) => {
    log('ERROR', `uncaught: ${describe(error)}`);
    if (inFlight !== undefined) send({ jsonrpc: '2.0', id: inFlight, error: toRpcError(error) });
    await closeAll();
    process.exit(101);
  });

  // On Linux the CLI stops the engine by closing stdin and sending SIGTERM immediately after.
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, async () => {
      await closeAll();
      process.exit(fatal ? 101 : 0);
    });
  }

  async function handle(request) {
    const { id, method, params } = request;
    const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
    if (!handler) {
      send({ jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${method}` } });
      return;
    }
    log('DEBUG', `-> ${method} ${JSON.stringify(params)}`);
    inFlight = id;
    try {
      const result = await handler(params);
      log('DEBUG', `<- ${method} ${JSON.stringify(result)}`);
      send({ jsonrpc: '2.0', id, result: result ?? null });
    } catch (error) {
      log('DEBUG', `<- ${method} error ${describe(error)}`);
      const rpcError = toRpcError(error);
      send({ jsonrpc: '2.0', id, error: rpcError });
      if (rpcError.data.is_panic) fatal = true;
    } finally {
      inFlight = undefined;
    }
  }

  // The Wasm engine object is not re-entrant (wasm-bindgen borrows it mutably per call), and
  // the CLI never relies on parallelism, so requests run strictly one after another.
  let queue = Promise.resolve();
  const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  input.on('line', (line) => {
    if (!line.trim()) return;
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      return;
    }
    if (message.method === undefined) {
      // A response to one of our own requests (print). Must not wait behind the queue: the
      // request that triggered it is what is holding the queue.
      pendingOutgoing.get(message.id)?.(message);
      pendingOutgoing.delete(message.id);
      return;
    }
    queue = queue.then(() => (fatal ? undefined : handle(message)));
  });

  // The CLI stops the engine by closing stdin.
  await new Promise((resolve) => input.once('close', resolve));
  await queue;
  await closeAll();
  // 101 is what the CLI treats as "engine panicked" on exit, as with the native binary.
  return fatal ? 101 : 0;
}

function send(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

function userError(message) {
  const e = new Error(message);
  e.name = 'SchemaConnectorError';
  return e;
}

// Error shapes coming out of the Wasm engine:
//  - user-facing errors: objects with a Prisma `code` (P3005, P1001, ...), `message`, `meta`
//  - connector errors: Error named SchemaConnectorError
//  - Rust panics: a WebAssembly.RuntimeError, with the panic text in PRISMA_WASM_PANIC_REGISTRY
// They are re-encoded the way the native engine encodes them, since that is what the CLI's
// binary-engine client parses (error.data.{is_panic,message,error_code,meta}).
function toRpcError(error) {
  const base = { code: 4466, message: 'An error happened. Check the data field for details.' };
  if (error instanceof WebAssembly.RuntimeError) {
    const message = globalThis.PRISMA_WASM_PANIC_REGISTRY?.get() || error.message;
    // For panics the CLI reads the top-level message, not data.message.
    return { ...base, message, data: { is_panic: true, message, backtrace: error.stack ?? '' } };
  }
  if (error && typeof error === 'object' && typeof error.code === 'string' && /^P\d{4}$/.test(error.code)) {
    return { ...base, data: { is_panic: false, message: error.message, error_code: error.code, meta: error.meta ?? null } };
  }
  return { ...base, data: { is_panic: false, message: describe(error) } };
}

function describe(error) {
  if (error instanceof Error) {
    return error.cause ? `${error.message}\n${describe(error.cause)}` : error.message;
  }
  return typeof error === 'string' ? error : JSON.stringify(error);
}

// ---------------------------------------------------------------------------------------------

function parseArgv(args) {
  const out = { datamodels: [], enabledPreviewFeatures: [], datasource: undefined };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => {
      if (i + 1 >= args.length) throw new Error(`${arg} needs a value`);
      return args[++i];
    };
    switch (arg) {
      case '--version':
      case '-V':
        out.version = true;
        break;
      case '--help':
      case '-h':
        out.help = true;
        break;
      case '--datamodels':
      case '-d':
        out.datamodels.push(value());
        break;
      case '--datasource':
        out.datasource = JSON.parse(value());
        break;
      case '--enabled-preview-features':
        out.enabledPreviewFeatures.push(...value().split(',').filter(Boolean));
        break;
      case '--extension-types':
        out.extensionTypes = JSON.parse(value());
        break;
      case 'cli':
        out.cli = args[++i];
        break;
      default:
        // Unknown flags are tolerated so a newer CLI does not break the shim outright.
        log('WARN', `ignoring unknown argument ${arg}`);
    }
  }
  return out;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    log('ERROR', describe(error));
    process.exitCode = 1;
  },
);
