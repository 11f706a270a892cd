// Prisma CLI configuration. The CLI is used here only for `prisma generate`: migrations are
// created and applied without Prisma's native engine (src/db/migrate.ts, scripts/create-migration.ts).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost/arrears' },
});
