/**
 * The secret part of an API key, `crk_key_<16 characters>_<43 characters of base64url>`. The
 * secret may itself contain `_`, so splitting on `_` would cut it short (sometimes to one
 * character, which any stored JSON contains).
 */
export function apiKeySecret(key: string): string {
  const m = /^crk_key_[a-z0-9]{16}_([A-Za-z0-9_-]{43})$/.exec(key);
  if (!m) throw new Error(`not an API key: ${key}`);
  return m[1]!;
}
