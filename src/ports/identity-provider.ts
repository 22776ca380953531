/** An OpenID Connect provider the web UI signs in with (authorization code flow with PKCE). */

/** What the browser keeps (in a short-lived HttpOnly cookie) between leaving for the provider and coming back. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface IdentityProvider {
  /** Shown on the sign-in button ("Sign in with <name>"). */
  readonly name: string;
  /** Where to send the browser, and the secrets the callback must present. */
  begin(redirectUri: string): Promise<{ url: string; pending: PendingSignIn }>;
  /**
   * Exchanges the code in the callback URL (state, PKCE verifier and ID token nonce, signature,
   * issuer, audience and expiry all checked) and answers the person's claims: those of the ID
   * token, completed from the UserInfo endpoint. Throws CrucibleError `sign_in_failed` when anything
   * fails (its message is safe to show to the person signing in).
   */
  complete(callbackUrl: URL, pending: PendingSignIn): Promise<Record<string, unknown>>;
}
