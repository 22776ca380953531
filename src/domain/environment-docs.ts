/**
 * The generated part of docs/environments.md: what each environment contains, from its manifest
 * and the repository's lock (scripts/generate-environment-docs.ts writes it; a test checks it is
 * current).
 */
import { environmentLimits, type EnvironmentLock, type EnvironmentManifest } from './environments.js';
import { LIMIT_BOUNDS, type LimitName } from './limits.js';

export const GENERATED_START = '<!-- generated from environments/*.json by scripts/generate-environment-docs.ts: do not edit -->';
export const GENERATED_END = '<!-- end of generated section -->';

function limitsLine(manifest: EnvironmentManifest): string {
  const { defaults, maxima } = environmentLimits(manifest);
  const changed = (Object.keys(LIMIT_BOUNDS) as LimitName[]).filter(
    (name) => defaults[name] !== LIMIT_BOUNDS[name].default || maxima[name] !== LIMIT_BOUNDS[name].max,
  );
  if (changed.length === 0) return 'Limits: the global defaults and maxima.';
  return `Limits (others global): ${changed.map((name) => `\`${name}\` default ${defaults[name]}, at most ${maxima[name]} ${LIMIT_BOUNDS[name].unit}`).join('; ')}.`;
}

function section(manifest: EnvironmentManifest, lock: EnvironmentLock | null): string {
  const lines = [
    `### \`${manifest.name}\``,
    '',
    manifest.description + '.',
    '',
    `Debian ${manifest.suite}, Python ${manifest.python}. ${limitsLine(manifest)}`,
    '',
  ];
  if (!lock) {
    lines.push('Not locked yet: the first build writes `environments/' + manifest.name + '.lock.json`.', '');
    return lines.join('\n');
  }
  const version = new Map(lock.packages.map((p) => [p.name, p.version]));
  lines.push('| asked for | version |', '|---|---|', ...manifest.packages.map((name) => `| ${name} | ${version.get(name) ?? 'missing from the lock'} |`), '');
  const base = lock.packages.filter((p) => p.base).length;
  lines.push(
    `<details><summary>All ${lock.packages.length} packages (${base} of them the Debian base system)</summary>`,
    '',
    lock.packages.map((p) => `${p.name} ${p.version}`).join(', '),
    '',
    '</details>',
    '',
  );
  return lines.join('\n');
}

export function environmentsMarkdown(entries: Array<{ manifest: EnvironmentManifest; lock: EnvironmentLock | null }>): string {
  return [GENERATED_START, '', ...entries.map((e) => section(e.manifest, e.lock)), GENERATED_END].join('\n');
}

/** `doc` with its generated section replaced by `generated`. */
export function replaceGenerated(doc: string, generated: string): string {
  const start = doc.indexOf(GENERATED_START);
  const end = doc.indexOf(GENERATED_END);
  if (start < 0 || end < start) throw new Error('the document has no generated section markers');
  return doc.slice(0, start) + generated + doc.slice(end + GENERATED_END.length);
}
