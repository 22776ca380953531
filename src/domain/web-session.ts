/**
 * Web sign-in model: how the browser signs in (OpenID Connect or an API key exchanged for a
 * cookie session), what a stored web session is, and the shapes of the /api/auth/* routes.
 * Pure: cookies, hashing and the OIDC protocol live in src/app/web-sessions.ts and src/api.
 */
import { z } from 'zod';
import { AUTH_MODES, ProjectName, Role, ROLES } from './access.js';

/** How a web session was opened. */
export const SIGN_IN_METHODS = ['oidc', 'key'] as const;
export type SignInMethod = (typeof SIGN_IN_METHODS)[number];

/** A web session as stored: the cookie value only as its SHA-256, never the value itself. */
export interface StoredWebSession {
  /** SHA-256 (hex) of the cookie's secret: the row's key. */
  id_sha256: string;
  /** The actor id requests of this session act as: `oidc:<issuer host>:<sub>` or the API key's id. */
  actor: string;
  /** Who it is, for people: the OIDC `name`/`email` claim or the key's name. */
  name: string;
  role: Role;
  project: string;
  method: SignInMethod;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

export const AuthConfig = z
  .object({
    mode: z.enum(AUTH_MODES).describe('`required`: every /api call needs a key or a web session; `off`: anyone is the anonymous admin'),
    oidc: z
      .object({ name: z.string().describe('What the sign-in button names, e.g. "Sign in with Keycloak"'), login_url: z.string() })
      .nullable()
      .describe('Set when an OpenID Connect provider is configured'),
    key_sign_in: z.boolean().describe('An API key can be exchanged for a web session (POST /api/auth/key-sign-in)'),
  })
  .describe('How the web UI may sign in (open without credentials)');
export type AuthConfig = z.infer<typeof AuthConfig>;

export const WhoAmI = z
  .object({
    id: z.string().describe('The actor id recorded in the audit log and as owner'),
    name: z.string(),
    role: Role,
    project: z.string(),
    via: z.enum(['session', 'key', 'anonymous']).describe('session: a web session cookie; key: an Authorization header; anonymous: auth is off'),
    method: z.enum(SIGN_IN_METHODS).nullable().describe('How the web session was opened (null unless via = session)'),
    expires_at: z.string().nullable().describe('When the web session ends (null unless via = session)'),
  })
  .describe('The caller of this request');
export type WhoAmI = z.infer<typeof WhoAmI>;

export const KeySignInRequest = z
  .object({ key: z.string().min(1).max(200).describe('An API key (`crk_…`); exchanged for a session cookie, never stored in the browser') })
  .strict();
export type KeySignInRequest = z.infer<typeof KeySignInRequest>;

export const SignedOut = z.object({ signed_out: z.boolean().describe('true when a web session was ended') });
export type SignedOut = z.infer<typeof SignedOut>;

/** Identity claims mapped to a Crucible role and project (see claimsToIdentity). */
export interface ClaimMapping {
  /** Claim (dot path for nested objects, e.g. `realm_access.roles`) holding a role or a list of roles. */
  roleClaim: string;
  /** Claim holding the project name. */
  projectClaim: string;
  /** Role when the claim is absent (none: sign-in is refused). */
  defaultRole?: Role;
  /** Project when the claim is absent (none: sign-in is refused). */
  defaultProject?: string;
}

export interface MappedIdentity {
  subject: string;
  name: string;
  role: Role;
  project: string;
}

function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path];
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The most capable known role among the claim's values (a list of groups may name several). */
function roleFrom(value: unknown): Role | undefined {
  const values = Array.isArray(value) ? value : [value];
  return ROLES.find((role) => values.includes(role));
}

/** Claims → identity, or the reason they do not give one (shown to the person signing in). */
export function claimsToIdentity(claims: Record<string, unknown>, mapping: ClaimMapping): MappedIdentity | { refused: string } {
  const subject = claims.sub;
  if (typeof subject !== 'string' || subject === '') return { refused: 'the identity provider sent no subject (sub)' };
  const role = roleFrom(claimAt(claims, mapping.roleClaim)) ?? mapping.defaultRole;
  if (!role) return { refused: `claim ${mapping.roleClaim} names none of the roles ${ROLES.join(', ')}` };
  const rawProject = claimAt(claims, mapping.projectClaim);
  const project = typeof rawProject === 'string' && rawProject !== '' ? rawProject : mapping.defaultProject;
  if (!project) return { refused: `claim ${mapping.projectClaim} is missing and no default project is configured` };
  if (!ProjectName.safeParse(project).success) return { refused: `claim ${mapping.projectClaim} is not a project name (lower-case letters, digits, _ and -)` };
  const name = [claims.name, claims.preferred_username, claims.email].find((v): v is string => typeof v === 'string' && v !== '') ?? subject;
  return { subject, name, role, project };
}
