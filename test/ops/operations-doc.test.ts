/**
 * docs/operations.md stays true: its offline commands (promtool, kubectl kustomize,
 * systemd-analyze verify) are run exactly as written, every deploy/ path it names exists, and
 * every crucible_* series in its tables is exported by a live server.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { missingTool, tool } from '../helpers/ops-tools.js';
import { exportedMetricNames } from '../helpers/prometheus-text.js';
import { repoRoot } from '../helpers/server.js';

const doc = fs.readFileSync(path.join(repoRoot, 'docs/operations.md'), 'utf8');
const commandLines = [...doc.matchAll(/```bash\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n'));
/** The commands that need no cluster, no root and no running service: run as shown. */
const OFFLINE = /^(promtool (check|test) |kubectl kustomize |systemd-analyze verify )/;
const offline = commandLines.map((l) => l.trim()).filter((l) => OFFLINE.test(l));

describe('docs/operations.md', () => {
  it('shows the offline checks, and each one passes as written', async () => {
    expect(offline.length).toBeGreaterThanOrEqual(5);
    for (const line of offline) {
      const [command, ...args] = line.split(/\s+/);
      const missing = missingTool(command!, command === 'promtool' ? 'prometheus' : command === 'systemd-analyze' ? 'systemd' : command!);
      if (missing) continue; // reported by the tool's own test file
      const r = await tool(command!, args, { cwd: repoRoot });
      expect(r.code, `${line}\n${r.stderr}`).toBe(0);
    }
  });

  it('names only deploy/ files that exist', () => {
    const paths = new Set([...doc.matchAll(/\b(deploy\/[\w./-]+\w)/g)].map((m) => m[1]!));
    expect(paths.size).toBeGreaterThan(5);
    for (const p of paths) expect(fs.existsSync(path.join(repoRoot, p)), p).toBe(true);
  });

  describe('its metric table', () => {
    let exported = new Set<string>();
    beforeAll(async () => {
      exported = (await exportedMetricNames()).families;
    });

    it('lists every crucible_ series the server exports, and only those', () => {
      const documented = new Set([...doc.matchAll(/^\| `(crucible_\w+)` \|/gm)].map((m) => m[1]!));
      const exportedCrucible = [...exported].filter((n) => n.startsWith('crucible_'));
      expect([...documented].filter((n) => !exported.has(n))).toEqual([]);
      expect(exportedCrucible.filter((n) => !documented.has(n))).toEqual([]);
    });
  });
});
