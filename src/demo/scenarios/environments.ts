/**
 * Scenarios in the environments beyond the standard library: data science in python-data (a
 * pandas group-by, a matplotlib plot returned as an artifact, a multi-file package tested with
 * pytest as the command, passing and failing) and the Python of python-3.13. Each is skipped,
 * saying how to build it, when no worker of the server serves its environment.
 */
import { contains, that, verdict } from '../checks.js';
import type { Scenario, ScenarioRun } from '../types.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A small package and its tests; `buggy` breaks one function so exactly one test fails. */
function packageFiles(buggy: boolean) {
  return [
    { path: 'textstats/__init__.py', content: 'from .core import top_words, word_counts\n' },
    {
      path: 'textstats/core.py',
      content: `from collections import Counter


def word_counts(text):
    return Counter(text.lower().split())


def top_words(text, n):
    counts = word_counts(text)
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (${buggy ? 'kv[1]' : '-kv[1]'}, kv[0]))[:n]]
`,
    },
    {
      path: 'tests/test_core.py',
      content: `from textstats import top_words, word_counts


def test_counts_ignore_case():
    assert word_counts("The cat the hat")["the"] == 2


def test_top_words_by_frequency():
    assert top_words("b a b c b a", 2) == ["b", "a"]


def test_empty_text():
    assert top_words("", 3) == []
`,
    },
  ];
}

/** The PNG's width and height from its IHDR chunk (bytes 16-23), or null if it is no PNG. */
function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 24 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

async function checkPlot(run: ScenarioRun): Promise<string[]> {
  const plot = run.artifacts.find((a) => a.path === 'plot.png');
  if (!plot) return [`artifacts should list plot.png; got ${JSON.stringify(run.artifacts.map((a) => a.path))}`];
  const size = pngSize(await run.artifactBytes('plot.png'));
  return [
    ...that(plot.content_type === 'image/png', `plot.png should be served as image/png, got ${plot.content_type}`),
    ...that(size?.width === 480 && size.height === 320, `plot.png should be a 480×320 PNG, got ${size ? `${size.width}×${size.height}` : 'no PNG'}`),
  ];
}

export const environmentScenarios: Scenario[] = [
  {
    name: 'pandas-groupby',
    title: 'pandas group-by (python-data)',
    kind: 'environment',
    environment: 'python-data',
    expected: 'completed; a DataFrame grouped by team: the per-team sums and means printed',
    request: () => ({
      code: String.raw`
import pandas as pd
df = pd.DataFrame({"team": ["red", "blue", "red", "green", "blue", "red"], "score": [3, 5, 4, 8, 1, 2]})
summary = df.groupby("team")["score"].agg(["sum", "mean"])
print(summary.to_dict("index"))
`,
    }),
    check: (run) => [
      ...verdict(run, 'completed', 'exit_zero', 0),
      ...that(
        run.evaluation.stdout === "{'blue': {'sum': 6, 'mean': 3.0}, 'green': {'sum': 8, 'mean': 8.0}, 'red': {'sum': 9, 'mean': 3.0}}\n",
        `stdout: got ${JSON.stringify(run.evaluation.stdout)}`,
      ),
    ],
  },
  {
    name: 'matplotlib-plot',
    title: 'matplotlib plot returned as a PNG artifact (python-data)',
    kind: 'environment',
    environment: 'python-data',
    expected: 'completed; the 480×320 plot saved to $CRUCIBLE_OUTPUT_DIR is listed as plot.png (image/png) and its bytes are a PNG',
    request: () => ({
      code: String.raw`
import os
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
x = np.linspace(0, 2 * np.pi, 200)
fig, ax = plt.subplots(figsize=(4.8, 3.2), dpi=100)
ax.plot(x, np.sin(x), label="sin")
ax.plot(x, np.cos(x), label="cos")
ax.legend()
fig.savefig(os.path.join(os.environ["CRUCIBLE_OUTPUT_DIR"], "plot.png"))
print("saved plot.png")
`,
    }),
    check: async (run) => [...verdict(run, 'completed', 'exit_zero', 0), ...contains(run, 'stdout', 'saved plot.png'), ...(await checkPlot(run))],
  },
  {
    name: 'pytest-package',
    title: 'A multi-file package tested with pytest (python-data)',
    kind: 'environment',
    environment: 'python-data',
    expected: 'completed, exit 0; files textstats/ and tests/ placed in the working directory, command `python3 -m pytest -q` reports 3 passed',
    request: () => ({ files: packageFiles(false), command: ['python3', '-m', 'pytest', '-q'] }),
    check: (run) => [...verdict(run, 'completed', 'exit_zero', 0), ...contains(run, 'stdout', '3 passed')],
  },
  {
    name: 'pytest-failure',
    title: 'A failing pytest run is reported as a failure (python-data)',
    kind: 'environment',
    environment: 'python-data',
    expected: 'failed, reason exit_nonzero, exit 1 (pytest: tests failed); stdout names the failing test: 1 failed, 2 passed',
    request: () => ({ files: packageFiles(true), command: ['python3', '-m', 'pytest', '-q'] }),
    check: (run) => [
      ...verdict(run, 'failed', 'exit_nonzero', 1),
      ...contains(run, 'stdout', 'FAILED tests/test_core.py::test_top_words_by_frequency', '1 failed, 2 passed'),
    ],
  },
  {
    name: 'python-3.13',
    title: 'Python 3.13 with numpy (python-3.13)',
    kind: 'environment',
    environment: 'python-3.13',
    expected: 'completed; sys.version_info is 3.13 (Debian 13) and numpy imports',
    request: () => ({
      code: 'import sys, numpy\nprint(f"Python {sys.version_info[0]}.{sys.version_info[1]}", "numpy", numpy.__version__, numpy.arange(5).sum())\n',
    }),
    check: (run) => [
      ...verdict(run, 'completed', 'exit_zero', 0),
      ...that(/^Python 3\.13 numpy \S+ 10\n$/.test(run.evaluation.stdout), `stdout: got ${JSON.stringify(run.evaluation.stdout)}`),
    ],
  },
];
