/** PostgreSQL test helpers: throwaway schemas on the local server, always dropped afterwards. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.CRUCIBLE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function testSchemaName(): string {
  return `crucible_test_${randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  if (!/^crucible_test_[0-9a-f]+$/.test(schema)) throw new Error(`refusing to drop ${schema}`);
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}
