/**
 * A genuine OpenID Provider for tests: `oidc-provider` (a certified implementation) on a free
 * loopback port, with one confidential client and its development login and consent pages
 * (any password; the login names the account). Each account's claims come from `accounts`.
 */
import type { Server } from 'node:http';
import Provider from 'oidc-provider';
import { freePort } from './server.js';

export interface TestIdentityProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  stop(): Promise<void>;
}

/** Reserves the provider's address first, so the relying party can be configured before the provider starts. */
export async function reserveIssuer(): Promise<{ issuer: string; port: number }> {
  const port = await freePort();
  return { issuer: `http://127.0.0.1:${port}`, port };
}

export async function startIdentityProvider(
  at: { issuer: string; port: number },
  redirectUri: string,
  accounts: Record<string, Record<string, unknown>>,
): Promise<TestIdentityProvider> {
  const clientId = 'crucible-test';
  const clientSecret = 'a-client-secret-for-the-test-only-0123456789';
  const provider = new Provider(at.issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    // Role and project travel with the profile scope (many providers put groups there).
    claims: { openid: ['sub'], profile: ['name', 'crucible_role', 'crucible_project'], email: ['email'] },
    cookies: { keys: ['test-cookie-key-0123456789'] },
    pkce: { required: () => true },
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, ...(accounts[id] ?? {}) }),
    }),
  });
  const server: Server = await new Promise((resolve) => {
    const s = provider.listen(at.port, '127.0.0.1', () => resolve(s));
  });
  return {
    issuer: at.issuer,
    clientId,
    clientSecret,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
