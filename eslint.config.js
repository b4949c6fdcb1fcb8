// Lint: typescript-eslint's recommended rules (syntax only, no type information: it stays fast)
// and the import boundaries of the README's architecture section. Imports run one way:
//
//   api  →  workflows/names, workflows/clients, services, stores, domain, infra
//   services → stores, domain, infra (and workflows/names: ids and definitions, no workflow code)
//   stores → domain, infra
//   activities → services, stores, domain, infra
//   workflows → workflows/names, domain, and types only of activities and services
//   domain → nothing of the app
//   infra → domain (the worker's and schedules' wiring in infra/ may assemble everything below api)
//
// scripts/, test/, bench/ and web/ are free: they are entry points and tools, nothing imports them.

import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const zone = (target, from, message, except) => ({ target, from, message, ...(except ? { except } : {}) });

/** Files that assemble the worker (activities, outbox relay, schedules): composition, not infrastructure. */
const INFRA_WIRING = ['worker', 'worker-app', 'schedules'];
const INFRA_PLAIN = `./infra/!(${INFRA_WIRING.join('|')}).ts`;
const ENTRY_POINTS = ['./scripts', './test', './bench', './web'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'generated/**', 'dist/**', 'web/dist/**', 'test/fixtures/**', '.data/**', 'test-artifacts/**', 'scripts/prisma-engine/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx,js,mjs}'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.mjs'] })] },
    rules: {
      // The code base uses `any` deliberately at a few JSON and driver edges; tests use it freely.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      // A variable a closure reads before its one assignment (workflow state) stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'import-x/no-restricted-paths': ['error', {
        zones: [
          zone('./domain', ['./api', './services', './stores', './activities', './workflows', './infra', './generated', ...ENTRY_POINTS],
            'domain/ is pure: it imports nothing of the app.'),
          zone(INFRA_PLAIN, ['./api', './services', './stores', './activities', ...ENTRY_POINTS],
            'infra/ is the bottom layer: only domain/ (and Temporal names).'),
          zone(INFRA_PLAIN, './workflows', 'infra/ may use only workflow names (workflows/names, search attributes).',
            ['./names', './search-attributes.ts']),
          zone(`./infra/{${INFRA_WIRING.join(',')}}.ts`, ['./api', ...ENTRY_POINTS], 'the worker is assembled without the API.'),
          zone('./stores', ['./api', './services', './activities', './workflows', ...ENTRY_POINTS],
            'a store reads and writes its tables with domain/ and infra/ only.'),
          zone('./services', ['./api', './activities', ...ENTRY_POINTS], 'services sit below api/ and activities/.'),
          zone('./services', './workflows', 'services may use workflow names and client calls, never workflow code.',
            ['./names', './clients', './search-attributes.ts']),
          zone('./activities', ['./api', ...ENTRY_POINTS], 'activities sit below api/.'),
          zone('./activities', './workflows', 'activities may share workflow names (types), never workflow code.', ['./names']),
          zone('./api', ['./activities', ...ENTRY_POINTS], 'api/ starts workflows through workflows/clients; it never imports activities.'),
          zone('./api', './workflows', 'api/ uses workflows/names and workflows/clients, never workflow code.',
            ['./names', './clients', './search-attributes.ts']),
          zone('./api/routers', './api/routers', 'a router never imports another router: shared parts go into their own module.'),
          zone('./api/routes', './api/routers', 'a route never imports a router: shared parts go into their own module.'),
          // (types of activities and services are allowed: the workflow rule below refuses their values)
          zone('./workflows/names', ['./workflows/clients', './stores', './infra', './api'],
            'names are workflow-safe: definitions and types only.'),
          zone('./workflows/clients', ['./activities', './stores', './api'], 'client calls use names and domain only.'),
        ],
      }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no client, no activity code.
    // Types of activities and services are fine (proxyActivities needs them); values are not.
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/clients/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/activities/**', '**/services/**'], allowTypeImports: true,
            message: 'workflow code may import only the types of activities and services.' },
          { group: ['**/infra/**', '**/api/**', '**/stores/**', '**/clients/**', '**/generated/**'],
            message: 'workflow code imports only workflow-safe modules (workflows/names, domain).' },
          { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', 'node:*', 'pg', 'ioredis'],
            message: 'workflow code must stay deterministic and free of I/O.' },
        ],
      }],
    },
  },
  {
    // Functions read as their steps (issue #11): a longer one is split into named helpers. The
    // configuration too: a long loader hid unvalidated variables.
    files: ['workflows/**/*.ts', 'activities/**/*.ts', 'services/**/*.ts', 'api/**/*.ts', 'infra/**/*.ts', 'stores/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 70, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Stores own the tables (README, architecture): api/ and activities/ call stores and services,
    // never SQL. Types of pg and Prisma stay allowed (a pool handed on to a store has a type).
    files: ['api/**/*.ts', 'activities/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { group: ['pg', '@prisma/*', '**/generated/**'], allowTypeImports: true,
            message: 'api/ and activities/ reach the database through stores and services, not pg or Prisma.' },
          { group: ['**/infra/db', '**/infra/db.ts'], allowTypeImports: true,
            message: 'api/ and activities/ reach the database through stores and services, not infra/db.' },
        ],
      }],
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.property.name=/^(query|connect)$/][callee.object.name=/^(pool|db)$/]",
          message: 'SQL belongs in the store that owns the table (stores/, services/).' },
        { selector: "CallExpression[callee.property.name=/^(query|connect)$/][callee.object.property.name=/^(pool|db)$/]",
          message: 'SQL belongs in the store that owns the table (stores/, services/).' },
        { selector: 'MemberExpression[object.name="prisma"]',
          message: 'Prisma calls belong in the store that owns the table (stores/, services/).' },
        { selector: 'MemberExpression[object.property.name="prisma"]',
          message: 'Prisma calls belong in the store that owns the table (stores/, services/).' },
        { selector: 'CallExpression[callee.object.object.name="tx"]',
          message: 'Prisma calls belong in the store that owns the table (stores/, services/); pass the transaction to it.' },
        { selector: 'TaggedTemplateExpression[tag.name="sql"]', message: 'SQL belongs in the store that owns the table (stores/, services/).' },
        { selector: 'CallExpression[callee.name="cacheCard"]', message: 'the ledger (services/ledger.ts) refreshes the balance cache after every money move.' },
      ],
    },
  },
  {
    files: ['test/**', 'bench/**', 'scripts/**'],
    rules: {
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },
);
