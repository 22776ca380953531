/**
 * Per-project quotas over the API (embedded platform, real sandboxes): set by admins and audited,
 * read by the project, and enforced: queued evaluations, CPU seconds per day, the largest limits a
 * role may ask for (429 quota_exceeded naming the quota), and running evaluations (the project's
 * extra work waits in the queue while other projects' runs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS_ACTOR, type CreatedApiKey, type Role } from '../../src/domain/access.js';
import type { Evaluation } from '../../src/domain/evaluation.js';
import type { ProjectQuotaView } from '../../src/domain/quota.js';
import { waitFor } from '../helpers/in-memory-platform.js';
import { api, startTestServer } from '../helpers/server.js';

type ErrorAnswer = { error: { code: string; message: string; details?: { quota?: string } } };

describe('project quotas (auth required)', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const keys: Record<string, CreatedApiKey> = {};
  const as = (who: string) => ({ authorization: `Bearer ${keys[who]!.key}` });
  const setQuota = (project: string, body: unknown, who = 'admin') => api<ErrorAnswer>(server.url, 'PUT', `/api/projects/${project}/quota`, body, as(who));
  const submit = (who: string, body: Record<string, unknown>) => api<Evaluation & ErrorAnswer>(server.url, 'POST', '/api/evaluations', body, as(who));
  const finished = (id: string, who: string) =>
    waitFor(
      async () => {
        const e = (await api<Evaluation>(server.url, 'GET', `/api/evaluations/${id}`, undefined, as(who))).body;
        return ['completed', 'failed', 'timeout', 'cancelled'].includes(e.status) ? e : null;
      },
      30_000,
      `evaluation ${id} to finish`,
    );

  beforeAll(async () => {
    server = await startTestServer({ workers: 2, auth: 'required' });
    const make = async (name: string, role: Role, project: string) => {
      keys[name] = await server.platform.access.createKey(ANONYMOUS_ACTOR, { name, role, project });
    };
    await make('admin', 'admin', 'ops');
    await make('alpha', 'researcher', 'alpha');
    await make('alphaViewer', 'viewer', 'alpha');
    await make('beta', 'researcher', 'beta');
    await make('gamma', 'researcher', 'gamma');
    await make('delta', 'researcher', 'delta');
  });
  afterAll(async () => server?.stop());

  it('admins set quotas (audited); the project reads its own, another project gets 404, a researcher may not set them', async () => {
    const set = await setQuota('alpha', { max_queued: 50, role_limits: { researcher: { memory_mb: 256 } } });
    expect(set.status).toBe(200);
    const view = await api<ProjectQuotaView>(server.url, 'GET', '/api/projects/alpha/quota', undefined, as('alphaViewer'));
    expect(view.status).toBe(200);
    expect(view.body.quota).toMatchObject({ project: 'alpha', max_queued: 50, max_running: null, updated_by: keys.admin!.id });
    expect(view.body.quota.role_limits.researcher).toEqual({ memory_mb: 256 });
    expect(view.body.usage).toMatchObject({ running: 0, queued: 0, cpu_seconds_today: 0 });
    // A later PUT changes only the fields it gives.
    expect((await setQuota('alpha', { max_sessions: 3 })).status).toBe(200);
    expect((await api<ProjectQuotaView>(server.url, 'GET', '/api/projects/alpha/quota', undefined, as('alpha'))).body.quota).toMatchObject({
      max_queued: 50,
      max_sessions: 3,
    });
    expect((await api(server.url, 'GET', '/api/projects/alpha/quota', undefined, as('beta'))).status).toBe(404);
    expect((await setQuota('alpha', { max_queued: 1000 }, 'alpha')).status).toBe(403);
    expect((await setQuota('alpha', { max_queued: -1 })).status).toBe(400);
    expect((await setQuota('alpha', { max_cpus: 3 })).status).toBe(400);
    const audited = (await server.platform.audit.list(ANONYMOUS_ACTOR, { limit: 100, action: 'quota.set' })).items;
    expect(audited.map((e) => [e.actor, e.target, e.outcome])).toEqual([
      [keys.admin!.id, 'alpha', 'success'],
      [keys.admin!.id, 'alpha', 'success'],
      [keys.alpha!.id, 'alpha', 'denied'],
      [keys.admin!.id, 'alpha', 'failed'],
      [keys.admin!.id, 'alpha', 'failed'],
    ]);
  });

  it('a limit larger than the role may ask for is refused with 429 quota_exceeded naming it (no Retry-After: waiting does not help)', async () => {
    const refused = await submit('alpha', { code: 'print(1)', memory_mb: 512 });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('quota_exceeded');
    expect(refused.body.error.message).toContain('role_limits.researcher.memory_mb');
    expect(refused.body.error.details?.quota).toBe('role_limits.researcher.memory_mb');
    expect(refused.headers.get('retry-after')).toBeNull();
    expect((await submit('alpha', { code: 'print(1)', memory_mb: 256 })).status).toBe(202);
    // Another project has no such cap.
    expect((await submit('beta', { code: 'print(1)', memory_mb: 512 })).status).toBe(202);
  });

  it('queued evaluations beyond max_queued: 429 with Retry-After, nothing accepted; other projects unaffected', async () => {
    expect((await setQuota('gamma', { max_queued: 2, max_running: 0 })).status).toBe(200);
    // max_running 0: gamma's evaluations stay queued, so the queue quota is reached deterministically.
    const ok = await api<{ ids: string[] }>(
      server.url,
      'POST',
      '/api/evaluations/batch',
      { evaluations: [{ code: 'print(1)' }, { code: 'print(2)' }] },
      as('gamma'),
    );
    expect(ok.status).toBe(202);
    const over = await submit('gamma', { code: 'print(3)' });
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('quota_exceeded');
    expect(over.body.error.message).toMatch(/quota max_queued exceeded: project gamma has 2 evaluations queued, at most 2/);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    const view = await api<ProjectQuotaView>(server.url, 'GET', '/api/projects/gamma/quota', undefined, as('gamma'));
    expect(view.body.usage.queued).toBe(2);
    const other = await submit('beta', { code: 'print("beta runs")' });
    expect(other.status).toBe(202);
    expect((await finished(other.body.id, 'beta')).stdout).toBe('beta runs\n');
    // Raising the running quota lets gamma's queued work run (re-checked within seconds).
    expect((await setQuota('gamma', { max_running: null })).status).toBe(200);
    await waitFor(
      async () => (await api<ProjectQuotaView>(server.url, 'GET', '/api/projects/gamma/quota', undefined, as('gamma'))).body.usage.queued === 0 || null,
      30_000,
      "gamma's queue to drain",
    );
  }, 60_000);

  it('max_running: a project at its limit waits while another project runs beside it', async () => {
    expect((await setQuota('delta', { max_running: 1 })).status).toBe(200);
    const slow = 'import time; time.sleep(1.0); print("done")';
    const first = await submit('delta', { code: slow });
    const second = await submit('delta', { code: slow });
    const other = await submit('beta', { code: slow });
    const [a, b, c] = [await finished(first.body.id, 'delta'), await finished(second.body.id, 'delta'), await finished(other.body.id, 'beta')];
    expect([a.status, b.status, c.status]).toEqual(['completed', 'completed', 'completed']);
    // delta's two never overlapped; beta's ran alongside delta's first.
    const [early, late] = [a, b].sort((x, y) => Date.parse(x.started_at!) - Date.parse(y.started_at!));
    expect(Date.parse(late!.started_at!)).toBeGreaterThanOrEqual(Date.parse(early!.finished_at!));
    expect(Date.parse(c.started_at!)).toBeLessThan(Date.parse(early!.finished_at!));
  }, 60_000);

  it('CPU seconds per day: once used up, submissions get 429 with Retry-After until midnight UTC', async () => {
    expect((await setQuota('beta', { cpu_seconds_per_day: 1 })).status).toBe(200);
    const burn = await submit('beta', { code: 'import time\nt = time.process_time()\nwhile time.process_time() - t < 1.2: pass\nprint("burnt")' });
    expect(burn.status).toBe(202);
    expect((await finished(burn.body.id, 'beta')).status).toBe('completed');
    const refused = await submit('beta', { code: 'print(1)' });
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toContain('quota cpu_seconds_per_day exceeded');
    const retryAfter = Number(refused.headers.get('retry-after'));
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    expect(Math.abs(retryAfter - (midnight.getTime() - Date.now()) / 1000)).toBeLessThan(5);
    const view = await api<ProjectQuotaView>(server.url, 'GET', '/api/projects/beta/quota', undefined, as('beta'));
    expect(view.body.usage.cpu_seconds_today).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
