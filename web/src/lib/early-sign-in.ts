/**
 * Every page waits to know who is signed in before its first render (the sign-in page or the
 * app). index.html asks GET /api/auth/me at once, in parallel with the bundle, so on a slow phone
 * the answer is there by the time the bundle has run instead of a round trip after it.
 */
import type { WhoAmI } from '../../../src/domain/web-session';
import { api } from './api-client';

/** Who is signed in: the early answer when it is a success, else asked again (errors come typed from the client). */
export async function whoAmI(): Promise<WhoAmI> {
  const w = window as { __crucibleEarlyMe?: Promise<Response> };
  const early = w.__crucibleEarlyMe;
  delete w.__crucibleEarlyMe;
  const res = early ? await early.catch(() => null) : null;
  if (res?.ok) return (await res.json()) as WhoAmI;
  return api.me();
}
