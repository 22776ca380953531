/**
 * Access control model: who a caller is (Actor), what roles exist, and the shapes of API keys as
 * the API accepts and returns them. Pure: hashing and key generation live in src/app/access.ts.
 */
import { z } from 'zod';

export const AUTH_MODES = ['off', 'required'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export const ROLES = ['admin', 'researcher', 'viewer'] as const;
export const Role = z.enum(ROLES).describe('admin: everything; researcher: submit, cancel own, read own project; viewer: read own project');
export type Role = z.infer<typeof Role>;

/** Project names: short, lower-case identifiers. */
export const ProjectName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { message: 'lower-case letters, digits, _ and -, at most 63' });
export const DEFAULT_PROJECT = 'default';

/** The caller of a use case. `anonymous` exists only while auth is off. */
export interface Actor {
  /** Key id, or "anonymous". */
  id: string;
  role: Role;
  project: string;
}

export const ANONYMOUS_ACTOR: Actor = Object.freeze({ id: 'anonymous', role: 'admin', project: DEFAULT_PROJECT });

/** Key ids: `key_` + 16 base32-ish characters; the secret follows in the presented key. */
export const API_KEY_ID = /^key_[a-z0-9]{16}$/;

export const ApiKeyInfo = z
  .object({
    id: z.string(),
    name: z.string(),
    role: Role,
    project: z.string(),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .describe('An API key as listed: never its secret');
export type ApiKeyInfo = z.infer<typeof ApiKeyInfo>;

export const CreateApiKeyRequest = z
  .object({
    name: z.string().min(1).max(100),
    role: Role,
    project: ProjectName.default(DEFAULT_PROJECT),
    expires_in_days: z.number().int().min(1).max(3650).optional(),
  })
  .strict();
export type CreateApiKeyRequest = z.input<typeof CreateApiKeyRequest>;

export const CreatedApiKey = ApiKeyInfo.extend({
  key: z.string().describe('The key itself (`Authorization: Bearer <key>`). Shown only in this response; stored only as a hash.'),
});
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

export const ApiKeyList = z.object({ keys: z.array(ApiKeyInfo) });
export type ApiKeyList = z.infer<typeof ApiKeyList>;

/** Is a listening address one only this machine can reach? */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}
