/** deploy/systemd/crucible.service: systemd accepts every line, and the hardening it claims is there. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployDir, missingTool, tool } from '../helpers/ops-tools.js';

const unit = path.join(deployDir, 'systemd/crucible.service');
const skip = missingTool('systemd-analyze', 'systemd');

function directives(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .filter((l) => /^\w+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('the systemd unit for the embedded mode', () => {
  it.skipIf(skip)(`passes systemd-analyze verify without a single warning${skip ? ` (skipped: ${skip})` : ''}`, async () => {
    const r = await tool('systemd-analyze', ['verify', unit]);
    expect(r.code, r.stderr).toBe(0);
    // systemd only warns (exit 0) about unknown keys and unparsable values: any output is a defect.
    expect(r.stderr.trim() + r.stdout.trim()).toBe('');
  });

  it('has the hardening and shutdown settings docs/operations.md describes', () => {
    const d = directives(fs.readFileSync(unit, 'utf8'));
    expect(d.get('ExecStart')).toMatch(/main\.js serve .*--data-dir \/var\/lib\/crucible/);
    for (const [key, value] of Object.entries({
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      NoNewPrivileges: 'yes',
      ProtectKernelModules: 'yes',
      ProtectKernelTunables: 'yes',
      RestrictSUIDSGID: 'yes',
      Delegate: 'yes',
      KillMode: 'mixed',
      StateDirectory: 'crucible',
    })) {
      expect(d.get(key), key).toBe(value);
    }
    // Longer than the 10 s the server gives running evaluations on SIGTERM.
    expect(Number(/^(\d+)s$/.exec(d.get('TimeoutStopSec')!)![1])).toBeGreaterThan(10);
    expect(d.get('CapabilityBoundingSet')).toMatch(/^~.*CAP_SYS_MODULE/);
  });
});
