/**
 * What a submission's environment decides before anything is queued: it must be known, its limits
 * within the environment's maxima (its defaults fill the rest), and some live worker must serve it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIMIT_BOUNDS } from '../../src/domain/limits.js';
import { expectCrucibleError } from '../helpers/expect-error.js';
import { openInMemoryPlatform, registerWorker, request, type InMemoryPlatform } from '../helpers/in-memory-platform.js';

describe('submissions and environments', () => {
  let platform: InMemoryPlatform;
  beforeEach(async () => {
    platform = await openInMemoryPlatform();
  });
  afterEach(async () => {
    await platform.close();
  });

  it('an unknown environment is 400 unknown_environment listing the known ones, and nothing is stored', async () => {
    const err = await expectCrucibleError(platform.service().submit([request({ environment: 'python-2.7' })]), 'unknown_environment', 400);
    expect(err.message).toContain('python, python-data, python-ml, python-3.13');
    expect(err.details).toEqual({ known: ['python', 'python-data', 'python-ml', 'python-3.13'] });
    expect(await platform.queuedJobs()).toEqual([]);
  });

  it("a limit above the environment's maximum is 400 naming the maximum, though within the global bounds", async () => {
    expect(LIMIT_BOUNDS.memory_mb.max).toBeGreaterThan(4096);
    const err = await expectCrucibleError(platform.service().submit([request({ memory_mb: 6000 })]), 'limit_above_environment_maximum', 400);
    expect(err.message).toBe("memory_mb 6000 is above the python environment's maximum of 4096 MiB.");
    // The same request is fine where the environment allows it.
    await registerWorker(platform.storage, 'w-ml', { environments: ['python-ml'] });
    const [accepted] = await platform.service().submit([request({ environment: 'python-ml', memory_mb: 6000 })]);
    expect(accepted!.limits.memory_mb).toBe(6000);
  });

  it("omitted limits take the environment's defaults (python-ml: 2 GiB memory), given ones are kept", async () => {
    await registerWorker(platform.storage, 'w1', { environments: ['python', 'python-ml'] });
    const [ml, plain] = await platform.service().submit([request({ environment: 'python-ml', cpus: 2 }), request({})]);
    expect(ml!.limits).toMatchObject({ memory_mb: 2048, timeout_s: 60, cpus: 2 });
    expect(plain!.limits.memory_mb).toBe(LIMIT_BOUNDS.memory_mb.default);
  });

  it('an environment no live worker serves is accepted and waits, its waiting_reason saying how to serve and build it', async () => {
    await registerWorker(platform.storage, 'w-python', { environments: ['python'] });
    await registerWorker(platform.storage, 'w-dead', { environments: ['python-3.13'], ageMs: 60_000 });
    const [plain, unserved] = await platform.service().submit([request({}), request({ environment: 'python-3.13' })]);
    expect(plain!.waiting_reason).toBeNull();
    expect(unserved!.waiting_reason).toContain('crucible env build python-3.13');
    expect(unserved!.waiting_reason).toContain('live workers serve: python');
    expect(await platform.queuedJobs()).toEqual([plain!.id, unserved!.id]);
  });

  it('with no live worker at all, work is accepted (workers may be starting)', async () => {
    const [e] = await platform.service().submit([request({ environment: 'python-3.13' })]);
    expect(e!.environment).toBe('python-3.13');
    expect(await platform.queuedJobs()).toEqual([e!.id]);
  });
});
