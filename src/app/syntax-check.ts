/**
 * Pre-submission syntax check with the real interpreter: the code is only compiled, never run, and
 * even the compile happens inside the sandbox (a parser is attack surface too), with tight limits.
 */
import type { SyntaxCheckResponse } from '../domain/system-views.js';
import { unavailable } from '../domain/errors.js';
import { DEFAULT_LIMITS } from '../domain/limits.js';
import type { SandboxBackend } from '../ports/sandbox.js';

const CHECKER = `
import json, sys
source = sys.stdin.buffer.read().decode("utf-8", "replace")
errors = []
try:
    compile(source, "<editor>", "exec", dont_inherit=True)
except SyntaxError as e:
    errors.append({"line": e.lineno or 1, "column": e.offset or 1, "message": e.msg or "invalid syntax"})
except (ValueError, RecursionError, MemoryError, OverflowError) as e:
    errors.append({"line": 1, "column": 1, "message": f"{type(e).__name__}: {e}"})
print(json.dumps(errors))
`;

export class SyntaxChecker {
  private counter = 0;

  constructor(private readonly sandbox: SandboxBackend | undefined) {}

  async check(code: string): Promise<SyntaxCheckResponse> {
    if (!this.sandbox) throw unavailable('syntax_check_unavailable', 'No sandbox is available on this API instance to check syntax.');
    const result = await this.sandbox.run({
      code: CHECKER,
      stdin: code,
      environment: 'python',
      runId: `syntax-${process.pid}-${++this.counter}-${Date.now()}`,
      limits: { ...DEFAULT_LIMITS, timeout_s: 5, memory_mb: 256, max_processes: 8, scratch_mb: 1, max_artifacts: 0 },
    });
    if (result.reason !== 'exit_zero') {
      throw unavailable('syntax_check_failed', `The syntax check could not complete: ${result.message}`);
    }
    const errors = JSON.parse(result.stdout) as SyntaxCheckResponse['errors'];
    return { ok: errors.length === 0, errors };
  }
}
