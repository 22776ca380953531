/**
 * Environments: the systems programs run on. Each is declared by a manifest in the repository
 * (environments/<name>.json: Debian suite, packages, allowlist, limits), built on a host into a
 * read-only root filesystem with a lock of every installed package, and shown through the API.
 * This module holds their shapes and the pure rules over them (limits, allowlist, SBOM).
 */
import { z } from 'zod';
import { Environment, ENVIRONMENTS, LimitsSchema, SandboxBackendName } from './evaluation.js';
import { DEFAULT_LIMITS, LIMIT_BOUNDS, type LimitName, type Limits } from './limits.js';

export const ENVIRONMENT_STATUSES = ['ready', 'not_built', 'building', 'failed'] as const;
export const EnvironmentStatus = z
  .enum(ENVIRONMENT_STATUSES)
  .describe('On this host: ready (built), not_built, building (a build is running), failed (the last build failed; building again resumes it)');
export type EnvironmentStatus = z.infer<typeof EnvironmentStatus>;

export const DEBIAN_SUITES = { bookworm: '12', trixie: '13' } as const;
export const DebianSuite = z.enum(Object.keys(DEBIAN_SUITES) as [keyof typeof DEBIAN_SUITES, ...(keyof typeof DEBIAN_SUITES)[]]);
export type DebianSuite = z.infer<typeof DebianSuite>;

/** Debian's rule for binary package names. */
const DebianPackageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, { message: 'a Debian package name' });

const PartialLimits = LimitsSchema.partial().strict();

export const EnvironmentManifest = z
  .object({
    name: Environment,
    description: z.string().min(1).max(500),
    suite: DebianSuite,
    /** Major.minor Python the suite ships (checked when building), shown before an environment is built. */
    python: z.string().regex(/^3\.\d+$/),
    packages: z.array(DebianPackageName).min(1).describe('Debian packages installed with apt (their dependencies come along)'),
    allowlist: z
      .array(z.string().regex(/^[a-z0-9*+.-]+$/))
      .min(1)
      .describe('Binary packages the lock may contain beyond the Debian base system (`*` matches any characters)'),
    default_limits: PartialLimits.describe('Limits a submission gets when it omits them (else the global defaults)'),
    max_limits: PartialLimits.describe('Most a submission may ask for (else the global maxima)'),
  })
  .strict();
export type EnvironmentManifest = z.infer<typeof EnvironmentManifest>;

export const LockedPackage = z.object({
  name: z.string(),
  version: z.string(),
  architecture: z.string(),
  source: z.string().describe('Debian source package'),
  source_version: z.string(),
  priority: z.string().describe('Debian priority (required, important, standard, optional)'),
  base: z.boolean().describe('Part of the Debian base system debootstrap installs (minbase), present in every environment'),
});
export type LockedPackage = z.infer<typeof LockedPackage>;

export const EnvironmentLock = z.object({
  environment: z.string(),
  suite: DebianSuite,
  packages: z.array(LockedPackage),
});
export type EnvironmentLock = z.infer<typeof EnvironmentLock>;

/** What a finished build records next to its root filesystem (environment.json). */
export const EnvironmentBuild = z.object({
  name: z.string(),
  suite: DebianSuite,
  python_version: z.string(),
  size_bytes: z.number().int().nonnegative(),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  built_at: z.string(),
  build_seconds: z.number().nonnegative(),
  manifest_sha256: z.string(),
  lock_sha256: z.string(),
});
export type EnvironmentBuild = z.infer<typeof EnvironmentBuild>;

/** An environment on this host, as the catalogue port reports it. */
export interface EnvironmentState {
  manifest: EnvironmentManifest;
  status: EnvironmentStatus;
  build: EnvironmentBuild | null;
  lock: EnvironmentLock | null;
  /** Why the last build failed (status failed). */
  error: string | null;
}

export const EnvironmentView = z.object({
  name: Environment,
  description: z.string(),
  suite: DebianSuite,
  python_version: z.string().describe('Full version when built here, else the major.minor the suite ships'),
  status: EnvironmentStatus,
  size_bytes: z.number().nullable().describe('Size of the root filesystem (null until built)'),
  digest: z.string().nullable().describe('sha256 over a sorted listing of the root filesystem and its files (null until built)'),
  built_at: z.string().nullable(),
  packages: z.array(z.object({ name: z.string(), version: z.string() })).describe('Every installed Debian package (from the lock)'),
  default_limits: LimitsSchema,
  max_limits: LimitsSchema,
  sandboxes: z
    .array(SandboxBackendName)
    .describe('Sandbox backends that can run it: those of the live workers serving it, and of this host when it is built here'),
  workers: z.array(z.string()).describe('Live workers serving it'),
  build_command: z.string().describe('How to build it on a host'),
  error: z.string().nullable().describe('Why the last build failed'),
});
export type EnvironmentView = z.infer<typeof EnvironmentView>;

export const EnvironmentList = z.object({ items: z.array(EnvironmentView) });
export type EnvironmentList = z.infer<typeof EnvironmentList>;

export const EnvironmentParams = z.object({ name: z.string().max(64) }).strict();

export function isEnvironment(name: string): name is Environment {
  return (ENVIRONMENTS as readonly string[]).includes(name);
}

export const buildCommand = (name: string) => `crucible env build ${name}`;

/** The environment's defaults and maxima, completed with the global ones. */
export function environmentLimits(manifest: EnvironmentManifest): { defaults: Limits; maxima: Limits } {
  const maxima = Object.fromEntries(
    (Object.keys(LIMIT_BOUNDS) as LimitName[]).map((name) => [name, manifest.max_limits[name] ?? LIMIT_BOUNDS[name].max]),
  ) as unknown as Limits;
  return { defaults: { ...DEFAULT_LIMITS, ...manifest.default_limits }, maxima };
}

/**
 * The limits a run gets: what was asked, else the environment's defaults. A value above the
 * environment's maximum is refused (never clamped), naming the maximum.
 */
export function resolveLimits(requested: Partial<Limits>, manifest: EnvironmentManifest): { limits: Limits } | { refused: string } {
  const { defaults, maxima } = environmentLimits(manifest);
  const limits = { ...defaults };
  for (const name of Object.keys(LIMIT_BOUNDS) as LimitName[]) {
    const value = requested[name];
    if (value === undefined) continue;
    if (value > maxima[name]) {
      return { refused: `${name} ${value} is above the ${manifest.name} environment's maximum of ${maxima[name]} ${LIMIT_BOUNDS[name].unit}` };
    }
    limits[name] = value;
  }
  return { limits };
}

/** A manifest whose defaults exceed its own maxima could never run with its defaults. */
export function manifestProblems(manifest: EnvironmentManifest): string[] {
  const { defaults, maxima } = environmentLimits(manifest);
  return (Object.keys(LIMIT_BOUNDS) as LimitName[])
    .filter((name) => defaults[name] > maxima[name])
    .map((name) => `${manifest.name}: default ${name} ${defaults[name]} is above its maximum ${maxima[name]}`);
}

/** `*` in an allowlist entry matches any run of characters; everything else literally. */
function globMatches(pattern: string, name: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === name;
  if (!name.startsWith(parts[0]!) || !name.endsWith(parts[parts.length - 1]!)) return false;
  let at = parts[0]!.length;
  for (const middle of parts.slice(1, -1)) {
    const found = name.indexOf(middle, at);
    if (found < 0) return false;
    at = found + middle.length;
  }
  return at <= name.length - parts[parts.length - 1]!.length;
}

export interface AuditRow extends LockedPackage {
  /** Part of the Debian base system debootstrap installs, or matched by the manifest's allowlist. */
  allowed: boolean;
}

/**
 * Each locked package, allowed when it is part of the Debian base system (what debootstrap
 * installs everywhere), asked for by the manifest, or matched by its allowlist.
 */
export function auditLock(lock: EnvironmentLock, manifest: EnvironmentManifest): AuditRow[] {
  return lock.packages.map((p) => ({
    ...p,
    allowed: p.base || manifest.packages.includes(p.name) || manifest.allowlist.some((pattern) => globMatches(pattern, p.name)),
  }));
}

/** A package URL (purl) for a Debian binary package. */
function debianPurl(p: LockedPackage, suite: DebianSuite): string {
  return `pkg:deb/debian/${encodeURIComponent(p.name)}@${encodeURIComponent(p.version)}?arch=${p.architecture}&distro=debian-${DEBIAN_SUITES[suite]}`;
}

/** A stable serial number for a build: a UUID made of its digest (version 4 layout, so parsers accept it). */
function serialOf(digest: string): string {
  const hex = digest
    .replace(/^sha256:/, '')
    .slice(0, 32)
    .split('');
  hex[12] = '4';
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export const CycloneDxBom = z.object({
  bomFormat: z.literal('CycloneDX'),
  specVersion: z.literal('1.5'),
  serialNumber: z.string(),
  version: z.number().int(),
  metadata: z.object({
    timestamp: z.string(),
    component: z.object({ type: z.string(), name: z.string(), version: z.string(), description: z.string() }),
  }),
  components: z.array(
    z.object({
      type: z.literal('library'),
      'bom-ref': z.string(),
      name: z.string(),
      version: z.string(),
      purl: z.string(),
      properties: z.array(z.object({ name: z.string(), value: z.string() })),
    }),
  ),
});
export type CycloneDxBom = z.infer<typeof CycloneDxBom>;

/** CycloneDX 1.5 software bill of materials of a built environment, from its lock. */
export function cycloneDxBom(manifest: EnvironmentManifest, build: EnvironmentBuild, lock: EnvironmentLock): CycloneDxBom {
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: serialOf(build.digest),
    version: 1,
    metadata: {
      timestamp: build.built_at,
      component: { type: 'operating-system', name: `crucible-${manifest.name}`, version: build.digest, description: manifest.description },
    },
    components: lock.packages.map((p) => {
      const purl = debianPurl(p, lock.suite);
      return {
        type: 'library' as const,
        'bom-ref': purl,
        name: p.name,
        version: p.version,
        purl,
        properties: [
          { name: 'debian:source', value: p.source },
          { name: 'debian:source_version', value: p.source_version },
          { name: 'debian:architecture', value: p.architecture },
        ],
      };
    }),
  };
}

/** The API view of an environment on this host. */
export function environmentView(state: EnvironmentState, extra: { sandboxes: SandboxBackendName[]; workers: string[] }): EnvironmentView {
  const { manifest, build, lock } = state;
  const { defaults, maxima } = environmentLimits(manifest);
  return {
    name: manifest.name,
    description: manifest.description,
    suite: manifest.suite,
    python_version: build?.python_version ?? manifest.python,
    status: state.status,
    size_bytes: build?.size_bytes ?? null,
    digest: build?.digest ?? null,
    built_at: build?.built_at ?? null,
    packages: (lock?.packages ?? []).map((p) => ({ name: p.name, version: p.version })),
    default_limits: defaults,
    max_limits: maxima,
    sandboxes: extra.sandboxes,
    workers: extra.workers,
    build_command: buildCommand(manifest.name),
    error: state.error,
  };
}
