/**
 * The IdentityProvider port over `openid-client` (a certified OpenID Connect relying party): the
 * authorization code flow with PKCE (S256), state and nonce; the ID token's signature, issuer,
 * audience, expiry and nonce are checked by the library. The provider's metadata is discovered on
 * first use (the provider may start after Crucible) and kept; a failed discovery is retried on the
 * next sign-in.
 */
import * as oidc from 'openid-client';
import { isLoopbackHost } from '../domain/access.js';
import { CrucibleError } from '../domain/errors.js';
import type { IdentityProvider, PendingSignIn } from '../ports/identity-provider.js';

export interface OpenIdConnectSettings {
  issuer: string;
  clientId: string;
  /** None: a public client (PKCE only). */
  clientSecret?: string;
  scopes: string;
  /** Shown on the sign-in button. */
  name: string;
}

const failed = (message: string) => new CrucibleError('sign_in_failed', message);

/** Plain http is accepted only for a provider on this machine (a test or development provider). */
export function assertIssuerUrl(issuer: string): void {
  const url = new URL(issuer);
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return;
  throw new Error(`the OpenID Connect issuer must be an https:// URL (http:// only on a loopback address): ${issuer}`);
}

export class OpenIdConnectProvider implements IdentityProvider {
  private configuration: Promise<oidc.Configuration> | null = null;

  constructor(private readonly settings: OpenIdConnectSettings) {
    assertIssuerUrl(settings.issuer);
  }

  get name(): string {
    return this.settings.name;
  }

  private discover(): Promise<oidc.Configuration> {
    if (this.configuration !== null) return this.configuration;
    const { issuer, clientId, clientSecret } = this.settings;
    const insecure = new URL(issuer).protocol === 'http:';
    const configuration = oidc
      .discovery(new URL(issuer), clientId, clientSecret, clientSecret === undefined ? oidc.None() : oidc.ClientSecretPost(clientSecret), {
        timeout: 10,
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      })
      .catch((err: unknown) => {
        this.configuration = null;
        throw failed(`the identity provider ${issuer} could not be reached or described itself wrongly: ${(err as Error).message}`);
      });
    this.configuration = configuration;
    return configuration;
  }

  async begin(redirectUri: string): Promise<{ url: string; pending: PendingSignIn }> {
    const config = await this.discover();
    const pending: PendingSignIn = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.settings.scopes,
      response_type: 'code',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, pending };
  }

  async complete(callbackUrl: URL, pending: PendingSignIn): Promise<Record<string, unknown>> {
    const config = await this.discover();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw failed(`the identity provider's answer was refused: ${(err as Error).message}`);
    }
    const idClaims = tokens.claims();
    if (!idClaims) throw failed('the identity provider sent no ID token');
    const claims: Record<string, unknown> = { ...idClaims };
    // Many providers put profile and group claims only in UserInfo; the ID token wins where both say.
    if (config.serverMetadata().userinfo_endpoint) {
      try {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        for (const [k, v] of Object.entries(info)) if (!(k in claims)) claims[k] = v;
      } catch (err) {
        throw failed(`the identity provider's UserInfo answer was refused: ${(err as Error).message}`);
      }
    }
    return claims;
  }
}
