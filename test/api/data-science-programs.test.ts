/**
 * Real data-science programs in the python-data environment, over the HTTP API of a real server
 * with the bubblewrap sandbox: a multi-file package whose tests run with
 * `command: ["python3", "-m", "pytest", "-q"]` (a passing and a failing suite, each reported as
 * such), and a matplotlib plot collected as an artifact and served inline as a PNG. Skipped, with
 * the reason shown, when python-data is not built on this host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/domain/evaluation.js';
import type { ArtifactList } from '../../src/domain/artifacts.js';
import { rootfsResolver } from '../../src/sandbox/environments/rootfs.js';
import { api, startTestServer } from '../helpers/server.js';
import { MATPLOTLIB_PLOT, pngDimensions } from '../sandbox/fixtures/matplotlib-plot.js';

const notBuilt = rootfsResolver()('python-data') ? null : 'the python-data environment is not built on this host (crucible env build python-data)';

/** A package with a conftest fixture and two test modules; `broken` makes one of its functions wrong. */
function geometryPackage(broken: boolean) {
  return [
    { path: 'geometry/__init__.py', content: 'from .shapes import area, perimeter\n' },
    {
      path: 'geometry/shapes.py',
      content: `import math


def area(shape, size):
    return math.pi * size ** 2 if shape == "circle" else size ** 2


def perimeter(shape, size):
    return ${broken ? '3' : '2'} * math.pi * size if shape == "circle" else 4 * size
`,
    },
    { path: 'tests/conftest.py', content: 'import pytest\n\n\n@pytest.fixture\ndef unit():\n    return 1.0\n' },
    {
      path: 'tests/test_area.py',
      content:
        'import math\nfrom geometry import area\n\n\ndef test_circle(unit):\n    assert area("circle", unit) == math.pi\n\n\ndef test_square():\n    assert area("square", 3) == 9\n',
    },
    {
      path: 'tests/test_perimeter.py',
      content:
        'import math\nfrom geometry import perimeter\n\n\ndef test_circle(unit):\n    assert perimeter("circle", unit) == 2 * math.pi\n\n\ndef test_square():\n    assert perimeter("square", 2) == 8\n',
    },
  ];
}

describe.skipIf(notBuilt)(`python-data programs over the API${notBuilt ? ` (skipped: ${notBuilt})` : ''}`, () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer();
  }, 60_000);
  afterAll(async () => server?.stop(), 60_000);

  const submit = (body: object) => api<Evaluation>(server.url, 'POST', '/api/evaluations?wait=true', { environment: 'python-data', timeout_s: 60, ...body });

  it('a multi-file package tested with `python3 -m pytest -q`: a passing suite completes, a failing one is a failure with exit 1', async () => {
    const command = ['python3', '-m', 'pytest', '-q'];
    const [passing, failing] = await Promise.all([submit({ files: geometryPackage(false), command }), submit({ files: geometryPackage(true), command })]);

    expect(passing.status).toBe(200);
    expect({ status: passing.body.status, reason: passing.body.reason, exit: passing.body.exit_code }, passing.body.stdout + passing.body.stderr).toEqual({
      status: 'completed',
      reason: 'exit_zero',
      exit: 0,
    });
    expect(passing.body.stdout).toMatch(/^4 passed in [\d.]+s$/m);
    expect(passing.body.command).toEqual(command);

    expect({ status: failing.body.status, reason: failing.body.reason, exit: failing.body.exit_code }, failing.body.stdout + failing.body.stderr).toEqual({
      status: 'failed',
      reason: 'exit_nonzero',
      exit: 1,
    });
    expect(failing.body.stdout).toContain('FAILED tests/test_perimeter.py::test_circle');
    expect(failing.body.stdout).toMatch(/^1 failed, 3 passed in [\d.]+s$/m);
  }, 90_000);

  it('a matplotlib plot is collected and served inline as a PNG, with nosniff', async () => {
    const r = await submit({ code: MATPLOTLIB_PLOT.code });
    expect(r.body.stdout, r.body.stderr).toBe('plotted\n');
    const list = await api<ArtifactList>(server.url, 'GET', `/api/evaluations/${r.body.id}/artifacts`);
    expect(list.body.items.map((a) => [a.path, a.content_type])).toEqual([['plot.png', 'image/png']]);

    const res = await fetch(`${server.url}/api/evaluations/${r.body.id}/artifacts/plot.png`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-disposition')).toMatch(/^inline; filename="plot.png"/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.length).toBe(list.body.items[0]!.size_bytes);
    expect(pngDimensions(bytes)).toEqual({ width: MATPLOTLIB_PLOT.width, height: MATPLOTLIB_PLOT.height });
  }, 90_000);
});
