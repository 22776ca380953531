/**
 * The rendered Kubernetes overlays, run for real with `podman kube play` and the built image (no
 * cluster here; podman plays Deployments, PersistentVolumeClaims and emptyDirs, and ignores the
 * kinds it does not know: Namespace, NetworkPolicy, ResourceQuota, StatefulSet, Ingress...).
 *   embedded   the one pod serves, runs an evaluation in the bubblewrap sandbox inside it (the
 *              python environment is a layer of the image), keeps its SQLite data in the volume
 *              made for the PersistentVolumeClaim, on a read-only root filesystem.
 *   scale-out  the API Deployment (2 replicas, non-root) and the worker Deployment (privileged, as
 *              components/sandbox-host grants), pointed by their crucible-urls Secret at this
 *              host's PostgreSQL and Redis (the overlay's own StatefulSets are not played): an
 *              evaluation submitted to an API pod is run by the worker pod.
 * crun runs pods here only through scripts/podman-with-host-limits.sh (docs/operations.md).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { imageMissing, imageRef, inspect, loadImage, podman } from '../helpers/container-image.js';
import { podSpec, renderOverlay, WORKLOAD_KINDS } from '../helpers/kubernetes.js';
import { missingTool } from '../helpers/ops-tools.js';
import { PG_URL, REDIS_URL } from '../helpers/scale-out.js';
import { tempDir, waitFor } from '../helpers/server.js';

const skip = imageMissing() ?? missingTool('kubectl', 'kubectl') ?? missingTool('slirp4netns', 'slirp4netns');
if (skip) console.warn(`podman kube play skipped: ${skip}`);

interface Verdict {
  status: string;
  sandbox: string;
  reason: string;
  stdout: string;
}
const PROGRAM = 'import os, sys\nprint("inside", os.getuid(), sys.version_info[0])';
const EXPECTED = { status: 'completed', sandbox: 'bubblewrap', reason: 'exit_zero', stdout: 'inside 65534 3\n' };

/**
 * Plays an overlay as rendered, less its containerPorts: podman 4.3 publishes each one on the
 * host under the same number (Kubernetes publishes none without a hostPort), which would take
 * this host's port 8080 from whatever listens there. The pods are reached on their own addresses.
 * The returned function takes them down again.
 */
async function play(overlay: string, extraArgs: string[] = []): Promise<{ file: string; down: () => void }> {
  const file = path.join(tempDir('crucible-kube-play-'), `${overlay}.yaml`);
  const objects = await renderOverlay(overlay);
  for (const workload of objects.filter((o) => WORKLOAD_KINDS.includes(o.kind))) for (const c of podSpec(workload).containers) delete c.ports;
  writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
  const played = podman(['kube', 'play', '--replace', ...extraArgs, file], 300_000);
  const down = () => void podman(['kube', 'down', file], 120_000);
  if (played.status !== 0) {
    down();
    throw new Error(`podman kube play ${overlay} failed: ${played.stdout}${played.stderr}`);
  }
  return { file, down };
}

/** An API key made inside a pod, as an operator would (`crucible keys create`, reading the pod's own data directory or database). */
function createKey(container: string): string {
  const res = podman(['exec', container, 'crucible', 'keys', 'create', '--role', 'researcher', '--name', 'kube-play'], 120_000);
  const key = /^crk_\S+/m.exec(res.stdout)?.[0];
  if (!key) throw new Error(`crucible keys create in ${container} printed no key: ${res.stdout}${res.stderr}`);
  return key;
}

const logs = (container: string) => {
  const res = podman(['logs', '--tail', '40', container], 30_000);
  return res.stdout + res.stderr;
};

describe.skipIf(skip !== null)('podman kube play of the rendered overlays, with the built image', () => {
  beforeAll(loadImage, 300_000);

  it("embedded: the pod serves and runs an evaluation in its sandbox, its data in the claim's volume, on a read-only root", async () => {
    const { down } = await play('embedded');
    const container = 'crucible-pod-0-crucible';
    try {
      expect(inspect('container', container, '{{.ImageName}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.Privileged}}')).toBe(`${imageRef} true true`);
      // kube play publishes only hostPorts (the manifest has none): the pod is reached on its bridge address.
      const infra = inspect('pod', 'crucible-pod-0', '{{.InfraContainerID}}');
      const address = inspect('container', infra, '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}');
      const url = `http://${address}:8080`;
      await waitFor('the embedded pod to be ready', async () => (await fetch(`${url}/readyz`).catch(() => null))?.status === 200, 180_000, 1000).catch(
        (err: Error) => {
          throw new Error(`${err.message}\n${logs(container)}`);
        },
      );
      // Off loopback the server requires API keys.
      const res = await fetch(`${url}/api/evaluations?wait=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${createKey(container)}` },
        body: JSON.stringify({ code: PROGRAM }),
      });
      expect((await res.json()) as Verdict, logs(container)).toMatchObject(EXPECTED);
      // The PersistentVolumeClaim became a podman volume of the same name, holding the database.
      expect(existsSync(path.join(inspect('volume', 'crucible-data', '{{.Mountpoint}}'), 'crucible.db'))).toBe(true);
    } finally {
      down();
      podman(['volume', 'rm', '--force', 'crucible-data']);
    }
  }, 600_000);

  describe("scale-out, against this host's PostgreSQL and Redis", () => {
    // The overlay's namespace is the default one (`crucible`): a database and a Redis database of
    // the test's own keep it apart from everything else on this host.
    const database = `crucible_kube_${randomBytes(4).toString('hex')}`;
    const redisDb = 11;
    const admin = new pg.Client({ connectionString: PG_URL });
    const secret = 'crucible-urls';
    let down: (() => void) | undefined;

    beforeAll(async () => {
      await admin.connect();
      await admin.query(`CREATE DATABASE ${database}`);
      // slirp4netns with allow_host_loopback: the pods reach this host's 127.0.0.1 as 10.0.2.2.
      const hostUrl = (url: string) => {
        const u = new URL(url);
        u.hostname = '10.0.2.2';
        return u;
      };
      const databaseUrl = hostUrl(PG_URL);
      databaseUrl.pathname = `/${database}`;
      const redisUrl = hostUrl(REDIS_URL);
      redisUrl.pathname = `/${redisDb}`;
      // podman 4.3 resolves a secretKeyRef in a podman secret holding a JSON object of base64 values.
      const b64 = (s: string) => Buffer.from(s).toString('base64');
      const file = path.join(tempDir('crucible-kube-secret-'), 'urls.json');
      writeFileSync(file, JSON.stringify({ 'database-url': b64(databaseUrl.href), 'redis-url': b64(redisUrl.href) }));
      podman(['secret', 'rm', secret]);
      const created = podman(['secret', 'create', secret, file]);
      expect(created.status, created.stderr).toBe(0);
    }, 60_000);

    afterAll(async () => {
      down?.();
      podman(['secret', 'rm', secret]);
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
      await admin.end();
      const redis = new Redis(REDIS_URL, { db: redisDb, lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      const keys = await redis.keys('crucible:*');
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }, 180_000);

    it('two API pods (non-root) and a worker pod (privileged): an evaluation submitted to an API pod runs in the worker pod', async () => {
      ({ down } = await play('scale-out', ['--network', 'slirp4netns:allow_host_loopback=true']));
      const api = ['crucible-api-pod-0-api', 'crucible-api-pod-1-api'];
      const worker = 'crucible-worker-pod-0-worker';
      for (const c of api)
        expect(inspect('container', c, '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.Privileged}}')).toBe('10001:10001 true false');
      expect(inspect('container', worker, '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.Privileged}}')).toBe('true true');
      // With slirp4netns a pod has no address this host can reach (and kube play publishes only
      // hostPorts): the request is made from inside the API pod, with the image's node.
      const inApi = (script: string) => podman(['exec', api[0]!, 'node', '-e', script], 240_000);
      const ready = `fetch("http://127.0.0.1:8080/readyz").then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
      await waitFor('an API pod to be ready', async () => inApi(ready).status === 0, 180_000, 2000).catch((err: Error) => {
        throw new Error(`${err.message}\n${logs(api[0]!)}\n${logs(worker)}`);
      });
      const key = createKey(api[0]!);
      const submit = `fetch("http://127.0.0.1:8080/api/evaluations?wait=true", { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer ${key}" }, body: JSON.stringify({ code: ${JSON.stringify(PROGRAM)} }) }).then((r) => r.text()).then((t) => console.log(t))`;
      const res = inApi(submit);
      const verdict = JSON.parse(res.stdout || '{}') as Verdict & { worker_id?: string };
      expect(verdict, `${res.stderr}\n${logs(worker)}`).toMatchObject(EXPECTED);
      // The API pods run no programs (--workers 0): the worker pod counts the verdict on its own metrics endpoint.
      const metrics = podman(
        ['exec', worker, 'node', '-e', 'fetch("http://127.0.0.1:9464/metrics").then((r) => r.text()).then((t) => console.log(t))'],
        60_000,
      );
      expect(metrics.stdout).toMatch(/^crucible_evaluations_finished_total\{[^}]*status="completed"[^}]*\} 1$/m);
    }, 600_000);
  });
});
