/**
 * Programs on the environments' root filesystems, in the real sandboxes: the libraries each
 * environment promises work, and bubblewrap and gVisor show a program the same system (commands,
 * Python, user names, variables, working directory). An environment that is not built on this
 * host is skipped with the reason shown (`scripts/setup.sh --test` builds python, python-data and
 * python-3.13; python-ml only with CRUCIBLE_BUILD_PYTHON_ML=1 or `crucible env build python-ml`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/domain/evaluation.js';
import { DEFAULT_LIMITS, type Limits } from '../../src/domain/limits.js';
import type { RunResult, SandboxBackend } from '../../src/ports/sandbox.js';
import { rootfsResolver } from '../../src/sandbox/environments/rootfs.js';
import { BubblewrapBackend, cgroupDriver, GvisorBackend } from '../../src/sandbox/index.js';

const builtHere = rootfsResolver();
let counter = 0;

const backends: Record<string, SandboxBackend> = {};
const unavailable: Record<string, string> = {};

beforeAll(async () => {
  const cgroups = cgroupDriver();
  for (const backend of [new BubblewrapBackend({ cgroups, warmSandboxes: 0 }), new GvisorBackend({ cgroups })]) {
    const health = await backend.health();
    if (health.ok) backends[backend.name] = backend;
    else unavailable[backend.name] = health.detail;
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(Object.values(backends).map((b) => b.close?.()));
}, 60_000);

function run(backend: SandboxBackend, environment: Environment, code: string, limits: Partial<Limits> = {}): Promise<RunResult> {
  return backend.run({
    code,
    environment,
    limits: { ...DEFAULT_LIMITS, timeout_s: 60, memory_mb: 1024, ...limits },
    runId: `env${process.pid}-${counter++}`,
  });
}

/** A test on one backend and environment, skipped visibly when either is missing here. */
function onBoth(title: string, environment: Environment, fn: (backend: SandboxBackend) => Promise<void>, timeoutMs = 90_000) {
  for (const name of ['bubblewrap', 'gvisor']) {
    it(
      `${name}, ${environment}: ${title}`,
      async (ctx) => {
        if (!backends[name]) ctx.skip(`${name} unavailable: ${unavailable[name]}`);
        if (!builtHere(environment)) ctx.skip(`the ${environment} environment is not built on this host (crucible env build ${environment})`);
        await fn(backends[name]!);
      },
      timeoutMs,
    );
  }
}

describe('environments in the sandboxes', () => {
  onBoth('pandas group-by', 'python-data', async (backend) => {
    const r = await run(
      backend,
      'python-data',
      `import pandas as pd
df = pd.DataFrame({"team": ["a", "b", "a", "b", "c"], "score": [1, 2, 3, 4, 5]})
print(df.groupby("team")["score"].sum().to_dict())`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe("{'a': 4, 'b': 6, 'c': 5}\n");
  });

  onBoth('scikit-learn fit and score; matplotlib draws into scratch', 'python-data', async (backend) => {
    const r = await run(
      backend,
      'python-data',
      `from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True)
model = LogisticRegression(max_iter=500).fit(X, y)
print("score", round(model.score(X, y), 2))
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.plot([1, 2, 3])
plt.savefig("/tmp/plot.png")
import os
print("png", os.path.getsize("/tmp/plot.png") > 1000)`,
    );
    expect(r.stdout).toMatch(/^score 0\.9\d\npng True\n$/);
  });

  onBoth('torch tensor math', 'python-ml', async (backend) => {
    const r = await run(backend, 'python-ml', 'import torch\nx = torch.arange(6.0).reshape(2, 3)\nprint((x @ x.T).tolist())', { memory_mb: 2048 });
    expect(r.stdout).toBe('[[5.0, 14.0], [14.0, 50.0]]\n');
  });

  onBoth('Python 3.13 with numpy and pytest', 'python-3.13', async (backend) => {
    const r = await run(
      backend,
      'python-3.13',
      'import sys, numpy, pytest\nassert sys.version_info[:2] == (3, 13)\nprint(sys.version_info[:2], numpy.arange(4).sum())',
    );
    expect(r.stdout).toBe('(3, 13) 6\n');
  });

  onBoth('whoami names uid 65534', 'python', async (backend) => {
    const r = await run(
      backend,
      'python',
      'import subprocess, os, pwd\nprint(subprocess.run(["whoami"], capture_output=True, text=True).stdout.strip(), os.getuid(), pwd.getpwuid(os.getgid()).pw_name)',
    );
    expect(r.stdout).toBe('nobody 65534 nobody\n');
  });

  it('both backends show a program the same system: commands, Python, variables, working directory, user', async (ctx) => {
    if (!backends.bubblewrap || !backends.gvisor) ctx.skip(`needs both backends: ${JSON.stringify(unavailable)}`);
    for (const environment of ['python', 'python-data'] as const) {
      if (!builtHere(environment)) continue;
      const probe = `import os, sys, subprocess
print(subprocess.run("ls /usr/bin | wc -l", shell=True, capture_output=True, text=True).stdout.strip())
print(sys.executable, sys.version)
print(sorted(os.environ.items()))
print(os.getcwd(), subprocess.run(["id"], capture_output=True, text=True).stdout.strip())
print(sorted(os.listdir("/")))`;
      const [bwrap, gvisor] = await Promise.all([run(backends.bubblewrap!, environment, probe), run(backends.gvisor!, environment, probe)]);
      expect(bwrap.reason, bwrap.stderr).toBe('exit_zero');
      expect(gvisor.stdout).toBe(bwrap.stdout);
      // The commands are the environment's (a Debian minbase + Python has a few hundred), not the host's ~1250.
      expect(Number(bwrap.stdout.split('\n')[0])).toBeLessThan(700);
    }
  }, 120_000);

  it('an environment not built on this host ends as a platform error saying how to build it', async (ctx) => {
    if (!backends.bubblewrap) ctx.skip(`bubblewrap unavailable: ${unavailable.bubblewrap}`);
    const backend = new BubblewrapBackend({ cgroups: cgroupDriver(), warmSandboxes: 0, rootfsOf: (e) => (e === 'python' ? builtHere('python') : null) });
    const r = await run(backend, 'python-3.13', 'print(1)');
    await backend.close();
    expect(r.reason).toBe('platform_error');
    expect(r.message).toContain('crucible env build python-3.13');
  });
});
