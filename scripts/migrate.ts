// `npm run db:migrate`: applies pending migrations to DATABASE_URL (offline-capable, see infra/migrate.ts).
import { databaseUrlFromEnv } from '../infra/config.ts';
import { migrate } from '../infra/migrate.ts';

process.stdout.write(await migrate(databaseUrlFromEnv()));
