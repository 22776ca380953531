/**
 * Writes the "what each environment contains" section of docs/environments.md from the manifests
 * and the repository's locks (environments/*.json). Run after a build that wrote or updated a
 * lock: `npx tsx scripts/generate-environment-docs.ts` (test/environments/docs.test.ts fails until then).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { environmentsMarkdown, replaceGenerated } from '../src/domain/environment-docs.js';
import { EnvironmentLock } from '../src/domain/environments.js';
import { loadManifests } from '../src/sandbox/environments/catalogue.js';
import { environmentPaths } from '../src/sandbox/environments/paths.js';

export const ENVIRONMENTS_DOC = fileURLToPath(new URL('../docs/environments.md', import.meta.url));

/** The document with its generated section made from the manifests and locks as they are now. */
export function withGeneratedEnvironments(doc: string): string {
  const entries = [...loadManifests().values()].map((manifest) => {
    const lockPath = environmentPaths('', manifest.name).repositoryLock;
    const lock = existsSync(lockPath) ? EnvironmentLock.parse(JSON.parse(readFileSync(lockPath, 'utf8'))) : null;
    return { manifest, lock };
  });
  return replaceGenerated(doc, environmentsMarkdown(entries));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(ENVIRONMENTS_DOC, withGeneratedEnvironments(readFileSync(ENVIRONMENTS_DOC, 'utf8')));
  console.log('docs/environments.md: environments section regenerated');
}
