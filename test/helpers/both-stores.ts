/**
 * The two ways a server stores evaluations, for API tests that must behave the same on both: the
 * embedded server (SQLite) and a scale-out server (PostgreSQL + Redis) in a schema and Redis
 * namespace of its own, dropped by `cleanup`.
 */
import type { PlatformConfig } from '../../src/main/config.js';
import { dropSchema, testSchemaName } from '../storage/pg-helpers.js';
import { deleteNamespaceKeys, PG_URL, REDIS_URL } from './scale-out.js';
import { startTestServer } from './server.js';

export type TestServer = Awaited<ReturnType<typeof startTestServer>>;

export interface StoreUnderTest {
  name: string;
  start: () => Promise<{ server: TestServer; cleanup: () => Promise<void> }>;
}

export function bothStores(overrides: Partial<PlatformConfig> = {}): StoreUnderTest[] {
  return [
    {
      name: 'SQLite (embedded)',
      start: async () => {
        const server = await startTestServer(overrides);
        return { server, cleanup: () => server.stop() };
      },
    },
    {
      name: 'PostgreSQL (scale-out)',
      start: async () => {
        const namespace = testSchemaName();
        const server = await startTestServer({ ...overrides, databaseUrl: PG_URL, redisUrl: REDIS_URL, namespace });
        return {
          server,
          cleanup: async () => {
            await server.stop();
            await dropSchema(namespace);
            await deleteNamespaceKeys(REDIS_URL, namespace);
          },
        };
      },
    },
  ];
}
