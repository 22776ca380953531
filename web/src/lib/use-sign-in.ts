/**
 * Who this browser is signed in as, and how it may sign in. The UI asks GET /api/auth/me: an
 * answer means the page may be used (signed in, or auth is off); 401 means show the sign-in page
 * with the ways GET /api/auth/config offers.
 */
import { useCallback, useEffect, useState } from 'react';
import type { AuthConfig, WhoAmI } from '../../../src/domain/web-session';
import { api, ApiError } from './api-client';
import { whoAmI } from './early-sign-in';

export type SignInState =
  | { status: 'loading' }
  | { status: 'signed-in'; me: WhoAmI }
  /** The server could not say (unreachable…): the pages are shown, the connection banner says what is wrong. */
  | { status: 'unknown' }
  | { status: 'signed-out'; config: AuthConfig | null; error: string | null };

/** An error the OpenID Connect callback left in the URL (`?sign_in_error=`), shown once on the sign-in page. */
function errorFromUrl(): string | null {
  return new URLSearchParams(window.location.search).get('sign_in_error');
}

export function useSignIn() {
  const [state, setState] = useState<SignInState>({ status: 'loading' });

  const refresh = useCallback(async (error: string | null = null) => {
    try {
      setState({ status: 'signed-in', me: await whoAmI() });
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) {
        setState({ status: 'unknown' });
        return;
      }
      const config = await api.authConfig().catch(() => null);
      setState({ status: 'signed-out', config, error: error ?? errorFromUrl() });
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const signInWithKey = useCallback(
    async (key: string) => {
      try {
        await api.keySignIn(key);
        await refresh();
      } catch (err) {
        const config = await api.authConfig().catch(() => null);
        setState({ status: 'signed-out', config, error: err instanceof ApiError ? err.message : String(err) });
      }
    },
    [refresh],
  );

  const signOut = useCallback(async () => {
    await api.signOut().catch(() => undefined);
    await refresh();
  }, [refresh]);

  return { state, signInWithKey, signOut };
}
