// Driver-adapter factory handed to the Wasm schema engine: @prisma/adapter-pg with the
// fixes the engine needs. The engine never opens sockets itself; every SQL statement it
// issues (introspection, migrations table, migration scripts, shadow database) goes
// through the object built here.

import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';

// Resolve driver-adapter-utils through adapter-pg so we get the exact copy it was built
// against (it is not a direct dependency of the repo, and its error registry is matched
// by identity).
const requireFromAdapter = createRequire(createRequire(import.meta.url).resolve('@prisma/adapter-pg'));
const { bindMigrationAwareSqlAdapterFactory, ColumnTypeEnum } = requireFromAdapter('@prisma/driver-adapter-utils');

// Query-string parameters that only Prisma's native engine understands. node-postgres would
// either ignore them or (worse) forward them as server settings, so strip them. `schema`
// is passed to adapter-pg separately.
const PRISMA_ONLY_PARAMS = [
  'schema',
  'connection_limit',
  'pool_timeout',
  'pgbouncer',
  'statement_cache_size',
  'socket_timeout',
  'connect_timeout',
  'sslaccept',
  'sslidentity',
  'sslpassword',
];

/** Splits a Prisma datasource URL into a node-postgres connection string and the Prisma `schema`. */
export function parseDatasourceUrl(url) {
  const parsed = new URL(url);
  if (!['postgres:', 'postgresql:'].includes(parsed.protocol)) {
    throw new Error(`This schema engine shim only supports PostgreSQL URLs, got ${parsed.protocol}//`);
  }
  const schema = parsed.searchParams.get('schema') ?? undefined;
  for (const p of PRISMA_ONLY_PARAMS) parsed.searchParams.delete(p);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres';
  return { connectionString: parsed.toString(), schema, database };
}

/** Same server and credentials, different database. */
export function withDatabase(connectionString, database) {
  const parsed = new URL(connectionString);
  parsed.pathname = '/' + encodeURIComponent(database);
  return parsed.toString();
}

export const quoteIdent = (name) => '"' + String(name).replace(/"/g, '""') + '"';

// adapter-pg maps result columns to Prisma column types by OID and throws
// UnsupportedNativeDataType for the single-byte catalog type `"char"` (OID 18), which the
// engine's introspection reads from pg_catalog (relkind, contype, confdeltype, ...); see
// prisma/prisma#27403. The engine then wants those columns typed as `Character` (it panics on
// `Text`: "Getting constraint_type ... as char failed"), and adapter-pg has no OID that maps
// to Character. So, in two steps:
//   1. the Client relabels OID 18 as `text` (its text form is already a one-char string)
//      and records which column indexes it touched on the rows array, which adapter-pg
//      passes through untouched;
//   2. queryRaw (patched per adapter/transaction below) turns those columns into Character.
// `name` (OID 19) is relabelled as plain text too, in case the adapter version lacks it.
const CHAR_OID = 18;
const NAME_OID = 19;
const TEXT_OID = 25;
const CHAR_COLUMNS = Symbol('charColumns');

function relabelFields(result) {
  if (Array.isArray(result)) return result.map(relabelFields);
  if (!result?.fields) return result;
  const charColumns = [];
  result.fields.forEach((field, i) => {
    if (field.dataTypeID === CHAR_OID) {
      charColumns.push(i);
      field.dataTypeID = TEXT_OID;
    } else if (field.dataTypeID === NAME_OID) {
      field.dataTypeID = TEXT_OID;
    }
  });
  if (charColumns.length && Array.isArray(result.rows)) {
    Object.defineProperty(result.rows, CHAR_COLUMNS, { value: charColumns });
  }
  return result;
}

// Done in the Client (not the Pool) so that it covers both pool.query() and the
// checked-out connections adapter-pg uses for transactions.
class CatalogFriendlyClient extends pg.Client {
  query(config, values, callback) {
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    if (typeof callback === 'function') {
      return super.query(config, values, (err, res) => callback(err, err ? res : relabelFields(res)));
    }
    const ret = super.query(config, values);
    return ret && typeof ret.then === 'function' ? ret.then(relabelFields) : ret;
  }
}

function patchCharColumns(queryable) {
  const queryRaw = queryable.queryRaw.bind(queryable);
  queryable.queryRaw = async (query) => {
    const resultSet = await queryRaw(query);
    for (const i of resultSet.rows?.[CHAR_COLUMNS] ?? []) resultSet.columnTypes[i] = ColumnTypeEnum.Character;
    return resultSet;
  };
  return queryable;
}

function createPool(connectionString) {
  return new pg.Pool({
    connectionString,
    Client: CatalogFriendlyClient,
    // One session, like the native engine: the migrate advisory lock, SET statements and
    // temp objects must all live on the same connection.
    max: 1,
    application_name: 'prisma-schema-engine-shim',
  });
}

/**
 * Makes an adapter-pg adapter over `pool`, with the `"char"` fix on it and on its
 * transactions, and a working executeScript.
 *
 * adapter-pg's executeScript splits the script on every `;` and runs the pieces one by one,
 * which breaks any migration containing a function body (`$$ ... ; ... $$`), a string with a
 * semicolon, etc. Sending the whole script as one simple-protocol query is what the native
 * engine does; Postgres parses it properly and runs it as one implicit transaction.
 */
async function connectAdapter(pool, schema, release) {
  const adapter = patchCharColumns(await new PrismaPg(pool, { schema, disposeExternalPool: false }).connect());
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (...args) => patchCharColumns(await startTransaction(...args));
  adapter.executeScript = async (script) => {
    try {
      await pool.query(script);
    } catch (error) {
      adapter.onError(error); // converts to DriverAdapterError and throws
    }
  };
  const originalDispose = adapter.dispose.bind(adapter);
  adapter.dispose = async () => {
    await originalDispose();
    await release();
  };
  return adapter;
}

/**
 * A migration-aware adapter factory for the Wasm engine.
 *
 * @param {object} opts
 * @param {string} opts.url               main database (Prisma URL)
 * @param {string} [opts.shadowDatabaseUrl] explicit shadow database, if configured
 * @param {(msg: string) => void} [opts.log]
 */
export function createAdapterFactory({ url, shadowDatabaseUrl, log = () => {} }) {
  const main = parseDatasourceUrl(url);
  const openPools = new Set();
  const liveShadows = new Map(); // database name -> admin connection string

  const track = (pool) => {
    openPools.add(pool);
    return async () => {
      if (!openPools.delete(pool)) return;
      await pool.end();
    };
  };

  const factory = {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',

    async connect() {
      const pool = createPool(main.connectionString);
      return connectAdapter(pool, main.schema, track(pool));
    },

    // adapter-pg's own connectToShadowDb is unusable here: it spreads `{ connectionString }`
    // and sets `database`, but node-postgres lets the connection string win, so the
    // "shadow" pool points at the main database (and the engine then resets/migrates it).
    // It also drops the shadow database while its own pool is still connected, which fails.
    async connectToShadowDb() {
      if (shadowDatabaseUrl) {
        // A configured shadow database is dedicated to Prisma, and the native engine empties
        // it before replaying the history. The Wasm engine assumes whatever the adapter hands
        // it is fresh and does not, so the second run would collide with the first one's
        // leftovers. Empty it here, before and after use, the way the native engine does.
        const shadow = parseDatasourceUrl(shadowDatabaseUrl);
        if (sameDatabase(shadow.connectionString, main.connectionString)) {
          throw new Error('The shadow database you configured appears to be the same as the main database.');
        }
        const schema = shadow.schema ?? main.schema ?? 'public';
        const pool = createPool(shadow.connectionString);
        const closePool = track(pool);
        await resetSchema(pool, schema);
        return connectAdapter(pool, schema, async () => {
          await resetSchema(pool, schema).catch((e) => log(`could not empty shadow database: ${e.message}`));
          await closePool();
        });
      }

      const name = shadowDatabaseName(main.database);
      await adminQuery(main.connectionString, `CREATE DATABASE ${quoteIdent(name)}`);
      liveShadows.set(name, main.connectionString);
      log(`created temporary shadow database ${name}`);

      const pool = createPool(withDatabase(main.connectionString, name));
      const closePool = track(pool);
      return connectAdapter(pool, main.schema, async () => {
        // Order matters: our own pool must be gone before DROP DATABASE can succeed.
        await closePool();
        await dropShadow(name);
      });
    },
  };

  async function dropShadow(name) {
    const admin = liveShadows.get(name);
    if (!admin) return;
    liveShadows.delete(name);
    await adminQuery(admin, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    log(`dropped temporary shadow database ${name}`);
  }

  /** Closes every pool and drops any shadow database the engine did not dispose of. */
  async function close() {
    // pool.end() waits for checked-out clients; don't let a stuck one block the DROP
    // (WITH (FORCE) disconnects it anyway).
    const ending = Promise.allSettled([...openPools].map((p) => (openPools.delete(p), p.end())));
    await Promise.race([ending, new Promise((r) => setTimeout(r, 2000).unref())]);
    for (const name of [...liveShadows.keys()]) {
      await dropShadow(name).catch((e) => log(`could not drop shadow database ${name}: ${e.message}`));
    }
  }

  return { factory: bindMigrationAwareSqlAdapterFactory(factory), close };
}

function resetSchema(pool, schema) {
  return pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE; CREATE SCHEMA ${quoteIdent(schema)};`);
}

function sameDatabase(a, b) {
  const [x, y] = [new URL(a), new URL(b)];
  return x.hostname === y.hostname && (x.port || '5432') === (y.port || '5432') && x.pathname === y.pathname;
}

function shadowDatabaseName(mainDatabase) {
  const suffix = `_shadow_${randomBytes(4).toString('hex')}`;
  // Postgres truncates identifiers to 63 bytes; truncate ourselves so DROP hits the same name.
  return Buffer.from(mainDatabase).subarray(0, 63 - suffix.length).toString() + suffix;
}

/**
 * Runs one statement on a short-lived connection. CREATE/DROP DATABASE cannot run inside a
 * transaction block or against the database being dropped, so this connects to the
 * `postgres` maintenance database when possible and falls back to `template1`.
 */
export async function adminQuery(connectionString, sql, params) {
  let lastError;
  for (const db of ['postgres', 'template1']) {
    const client = new pg.Client({ connectionString: withDatabase(connectionString, db) });
    try {
      await client.connect();
    } catch (error) {
      lastError = error;
      if (error.code === '3D000') continue; // maintenance db missing: try the next one
      throw error;
    }
    try {
      return await client.query(sql, params);
    } finally {
      await client.end();
    }
  }
  throw lastError;
}
