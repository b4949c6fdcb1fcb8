// One-shot commands: `schema-engine --datasource <json> cli <command>`.
//
// The Prisma CLI runs these as separate processes before it starts the JSON-RPC engine
// (e.g. `migrate dev` checks the database exists and creates it if it gets P1003). The Wasm
// engine has no equivalent, so they are implemented here directly with node-postgres.
//
// Error contract (read from the CLI source, function `canConnectToDatabase`): exit non-zero
// and write JSON log lines to stderr; the CLI drops the FIRST stderr line, JSON-parses every
// other line, and looks for `level: "ERROR"`, `target: "schema_engine::logger"` with
// `fields.error_code` + `fields.message`. A P1003 from can-connect-to-database is what makes
// the CLI offer/perform create-database.

import pg from 'pg';
import { adminQuery, parseDatasourceUrl, quoteIdent } from './adapter.mjs';

/** Returns the process exit code. */
export async function runCliCommand(command, datasource) {
  if (!datasource?.url) {
    return fail({ message: 'The `cli` commands need `--datasource {"url": ...}`.' });
  }
  const target = parseDatasourceUrl(datasource.url);
  try {
    switch (command) {
      case 'can-connect-to-database':
        await canConnect(target);
        break;
      case 'create-database':
        await adminQuery(target.connectionString, `CREATE DATABASE ${quoteIdent(target.database)}`);
        process.stdout.write(`Database '${target.database}' was successfully created.\n`);
        break;
      case 'drop-database':
        // No FORCE: refusing to drop a database that is in use is the safe, native behaviour.
        await adminQuery(target.connectionString, `DROP DATABASE ${quoteIdent(target.database)}`);
        process.stdout.write(`The database was successfully dropped.\n`);
        break;
      default:
        return fail({ message: `Unknown cli command: ${command}` });
    }
    return 0;
  } catch (error) {
    return fail(userFacingError(error, target));
  }
}

async function canConnect(target) {
  const client = new pg.Client({ connectionString: target.connectionString });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => {});
  }
}

/** Maps node-postgres / socket errors to the Prisma error codes the CLI reacts to. */
export function userFacingError(error, target) {
  const url = new URL(target.connectionString);
  const host = url.hostname || 'localhost';
  const port = url.port || '5432';
  const where = `${host}:${port}`;
  switch (error?.code) {
    case '3D000':
      return {
        error_code: 'P1003',
        message: `Database \`${target.database}\` does not exist on the database server at \`${where}\`.`,
      };
    case '28P01':
    case '28000':
      return {
        error_code: 'P1000',
        message:
          `Authentication failed against database server, the provided database credentials for \`${decodeURIComponent(url.username)}\` are not valid.\n\n` +
          'Please make sure to provide valid database credentials for the database server at the configured address.',
      };
    case '42P04':
      return {
        error_code: 'P1009',
        message: `Database \`${target.database}\` already exists on the database server at \`${where}\``,
      };
    case '42501':
      return {
        error_code: 'P1010',
        message: `User was denied access on the database \`${target.database}\``,
      };
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ETIMEDOUT':
      return {
        error_code: 'P1001',
        message: `Can't reach database server at \`${where}\`\n\nPlease make sure your database server is running at \`${where}\`.`,
      };
    default:
      return { message: error?.message ?? String(error) };
  }
}

function fail(fields) {
  const line = (level, f) =>
    JSON.stringify({ timestamp: new Date().toISOString(), level, fields: f, target: 'schema_engine::logger' });
  // First line is a sacrificial INFO line because the CLI discards stderr's first line.
  // No trailing newline: the CLI JSON-parses every remaining line, including an empty one.
  process.stderr.write(line('INFO', { message: 'schema engine shim: cli command failed' }) + '\n' + line('ERROR', fields));
  return 1;
}
