// `npm run user:create -- --email a@b.example --name "A B" --role admin`: the first admin of a
// production installation (the demo seed exists only in development), or any portal user
// from the command line. The password is read from PORTAL_USER_PASSWORD, or a strong one is
// generated and printed once. Admin and finance enrol their second factor at first sign-in.

import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createDeps } from '../api/app.ts';
import { audit } from '../services/audit.ts';
import { loadConfig } from '../infra/config.ts';
import { DomainError } from '../domain/errors.ts';
import type { UserRole } from '../services/users.ts';

const ROLES: UserRole[] = ['admin', 'finance', 'support', 'store_staff'];
const { values } = parseArgs({
  options: { email: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, store: { type: 'string' } },
});
if (!values.email || !values.role || !ROLES.includes(values.role as UserRole)) {
  console.error(`usage: npm run user:create -- --email ADDRESS --role ${ROLES.join('|')} [--name "Display Name"] [--store STORE_ID]`);
  process.exit(2);
}
const generated = !process.env.PORTAL_USER_PASSWORD;
const password = process.env.PORTAL_USER_PASSWORD ?? randomBytes(18).toString('base64url');

const deps = createDeps(loadConfig(), () => {});
try {
  const user = await deps.users.create({
    email: values.email, displayName: values.name ?? values.email, role: values.role as UserRole,
    storeId: values.store ?? null, password,
  });
  await audit(deps.db.pool, { actor: 'cli', action: 'user.create', subject: `user:${user.userId}`, details: { role: user.role } });
  console.log(`created ${user.role} ${values.email} (${user.userId})`);
  if (generated) console.log(`password (shown once): ${password}`);
} catch (err) {
  if (err instanceof DomainError) {
    console.error(`refused: ${err.message} (${err.code})`);
    process.exitCode = 1;
  } else {
    throw err;
  }
} finally {
  await deps.close();
}
