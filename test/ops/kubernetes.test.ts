/**
 * deploy/kubernetes: every overlay renders offline with `kubectl kustomize`, every rendered object
 * is valid against the Kubernetes schemas, and the hardening the manifests promise holds:
 * default-deny networking with only the intended flows, Pod Security, read-only roots, dropped
 * capabilities, seccomp, quotas, disruption budgets, no API tokens, probes and shutdown grace.
 * (Rendered and validated, not applied: there is no cluster here. docs/operations.md says so.)
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byKind, named, podLabels, podSpec, renderOverlay, schemaErrors, selects, WORKLOAD_KINDS, type K8sObject } from '../helpers/kubernetes.js';
import { missingTool } from '../helpers/ops-tools.js';
import { startPrometheus, testConfig, waitForQuery, type PrometheusServer } from '../helpers/prometheus-server.js';
import { deleteNamespaceKeys, PG_URL, REDIS_URL } from '../helpers/scale-out.js';
import { api, startTestServer } from '../helpers/server.js';
import { dropSchema, testSchemaName } from '../storage/pg-helpers.js';

const skip = missingTool('kubectl', 'kubectl');
const OVERLAYS = ['embedded', 'scale-out', 'scale-out-gvisor'] as const;
/** `crucible serve` / `crucible worker` let evaluations finish for this long on SIGTERM (src/main/roles.ts). */
const SERVER_GRACE_S = 10;

type Policy = {
  spec: {
    podSelector: { matchLabels?: Record<string, string> };
    policyTypes: string[];
    ingress?: unknown[];
    egress?: Array<{ ports?: Array<{ port: number }> }>;
  };
};
const sandboxPod = (w: K8sObject) => w.metadata.labels?.['crucible.dev/sandboxes'] === 'true';

type ScaledObject = K8sObject & { spec: { scaleTargetRef: { name: string }; triggers: Array<{ type: string; metadata: Record<string, string> }> } };
const scaledObject = (objects: K8sObject[]) => named(objects, 'ScaledObject', 'crucible-worker') as unknown as ScaledObject;
function trigger(scaled: ScaledObject, type: string) {
  const found = scaled.spec.triggers.find((t) => t.type === type);
  if (!found) throw new Error(`the ScaledObject has no ${type} trigger`);
  return found;
}

describe.skipIf(skip)(`Kubernetes manifests${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const rendered = new Map<string, K8sObject[]>();
  beforeAll(async () => {
    for (const overlay of OVERLAYS) rendered.set(overlay, await renderOverlay(overlay));
  });

  describe.each(OVERLAYS)('overlay %s', (overlay) => {
    const objects = () => rendered.get(overlay)!;
    const workloads = () => objects().filter((o) => WORKLOAD_KINDS.includes(o.kind));
    const namespaceOf = (name: string) => named(objects(), 'Namespace', name);

    it('every object is valid against the Kubernetes (and KEDA) schemas', async () => {
      expect(objects().length).toBeGreaterThan(8);
      const errors = (await Promise.all(objects().map(schemaErrors))).flat();
      expect(errors).toEqual([]);
    });

    it('every namespace denies all traffic by default and has a quota and limit range', () => {
      const namespaces = new Set(objects().flatMap((o) => (o.metadata.namespace ? [o.metadata.namespace] : [])));
      expect(namespaces.size).toBeGreaterThan(0);
      for (const ns of namespaces) {
        expect(namespaceOf(ns).metadata.labels?.['pod-security.kubernetes.io/enforce'], ns).toMatch(/^(restricted|privileged)$/);
        const deny = objects().find(
          (o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === ns && o.metadata.name === 'default-deny',
        ) as unknown as Policy;
        expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
        expect(byKind(objects(), 'ResourceQuota').some((q) => q.metadata.namespace === ns)).toBe(true);
        expect(byKind(objects(), 'LimitRange').some((q) => q.metadata.namespace === ns)).toBe(true);
      }
    });

    it('no pod gets a Kubernetes API token, and no role is granted', () => {
      expect(objects().filter((o) => /Role(Binding)?$/.test(o.kind))).toEqual([]);
      for (const w of workloads()) {
        const spec = podSpec(w);
        expect(spec.automountServiceAccountToken, w.metadata.name).toBe(false);
        const account = named(objects(), 'ServiceAccount', spec.serviceAccountName!);
        expect(account.automountServiceAccountToken, account.metadata.name).toBe(false);
      }
    });

    it('every container: read-only root, resources, seccomp, no host namespaces or host paths', () => {
      for (const w of workloads()) {
        const spec = podSpec(w);
        expect(spec.hostNetwork ?? false).toBe(false);
        expect(spec.hostPID ?? false).toBe(false);
        expect((spec.volumes ?? []).filter((v) => 'hostPath' in v)).toEqual([]);
        for (const c of spec.containers) {
          const where = `${w.metadata.name}/${c.name}`;
          expect(c.securityContext?.readOnlyRootFilesystem, where).toBe(true);
          expect(c.resources?.requests?.cpu && c.resources.requests.memory && c.resources.limits?.cpu && c.resources.limits.memory, where).toBeTruthy();
          expect(c.securityContext?.seccompProfile ?? spec.securityContext?.seccompProfile, where).toBeTruthy();
        }
      }
    });

    it('pods that run no sandbox meet Pod Security "restricted", in a namespace that enforces it', () => {
      for (const w of workloads().filter((x) => !sandboxPod(x))) {
        const spec = podSpec(w);
        expect(spec.securityContext?.runAsNonRoot, w.metadata.name).toBe(true);
        expect(spec.securityContext?.seccompProfile).toEqual({ type: 'RuntimeDefault' });
        for (const c of spec.containers) {
          expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
          expect(c.securityContext?.privileged).toBeUndefined();
        }
        expect(namespaceOf(w.metadata.namespace!).metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
      }
    });

    it('privileges go only to the pods that run sandboxes, alone in a privileged namespace', () => {
      const privileged = workloads().filter((w) => podSpec(w).containers.some((c) => c.securityContext?.privileged));
      expect(privileged.map((w) => w.metadata.name)).toEqual(
        workloads()
          .filter(sandboxPod)
          .map((w) => w.metadata.name),
      );
      expect(privileged).toHaveLength(1);
      for (const w of privileged) {
        const ns = w.metadata.namespace!;
        expect(namespaceOf(ns).metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('privileged');
        expect(workloads().filter((o) => o.metadata.namespace === ns)).toHaveLength(1);
        expect(podSpec(w).containers[0]!.securityContext?.capabilities?.add).toBeUndefined();
      }
      if (overlay === 'scale-out-gvisor') {
        expect(podSpec(privileged[0]!).runtimeClassName).toBe('gvisor');
        expect(named(objects(), 'RuntimeClass', 'gvisor')).toMatchObject({ handler: 'runsc' });
      }
    });

    it('every workload has a disruption budget', () => {
      for (const w of workloads()) {
        const budgets = byKind(objects(), 'PodDisruptionBudget').filter(
          (b) =>
            b.metadata.namespace === w.metadata.namespace &&
            selects((b as unknown as { spec: { selector: { matchLabels: Record<string, string> } } }).spec.selector, podLabels(w)),
        );
        expect(budgets, w.metadata.name).toHaveLength(1);
      }
    });

    it("Crucible pods: probes on /healthz (and /readyz for the API), grace beyond the server's", () => {
      const crucible = workloads().filter((w) => podLabels(w)['app.kubernetes.io/name'] === 'crucible');
      expect(crucible.length).toBeGreaterThan(0);
      for (const w of crucible) {
        const spec = podSpec(w);
        const c = spec.containers[0]!;
        expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
        if (c.args?.[0] === 'serve') expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
        expect(spec.terminationGracePeriodSeconds!).toBeGreaterThan(SERVER_GRACE_S);
      }
    });

    it('network: only the intended egress (PostgreSQL, Redis, DNS), none for the data stores or the embedded pod', () => {
      const policies = byKind(objects(), 'NetworkPolicy') as unknown as Array<K8sObject & Policy>;
      for (const w of workloads()) {
        const selecting = policies.filter((p) => p.metadata.namespace === w.metadata.namespace && selects(p.spec.podSelector, podLabels(w)));
        const egressPorts = new Set(selecting.flatMap((p) => (p.spec.egress ?? []).flatMap((rule) => (rule.ports ?? [{ port: -1 }]).map((port) => port.port))));
        const component = podLabels(w)['app.kubernetes.io/component'];
        const allowed = component === 'api' || component === 'worker' ? [5432, 6379, 53] : [];
        expect(
          [...egressPorts].filter((port) => !allowed.includes(port)),
          `${w.metadata.name} egress`,
        ).toEqual([]);
        if (allowed.length) expect([...egressPorts].sort((a, b) => a - b)).toEqual([53, 5432, 6379]);
      }
    });
  });

  it('scale-out: KEDA scales the worker Deployment on the queue; the Ingress and Services reach real pods', () => {
    const objects = rendered.get('scale-out')!;
    const scaled = scaledObject(objects);
    expect(scaled.metadata.namespace).toBe('crucible-workers');
    expect(named(objects, 'Deployment', scaled.spec.scaleTargetRef.name).metadata.namespace).toBe('crucible-workers');
    const worker = named(objects, 'Deployment', 'crucible-worker');
    const args = podSpec(worker).containers[0]!.args!;
    const concurrency = args[args.indexOf('--concurrency') + 1];
    // Both triggers ask for one replica per --concurrency waiting evaluations.
    expect(trigger(scaled, 'prometheus').metadata).toMatchObject({ query: expect.stringContaining('crucible_queue_waiting'), threshold: concurrency });
    expect(trigger(scaled, 'redis').metadata).toMatchObject({ listName: 'crucible:evaluations-python:wait', listLength: concurrency });
    for (const service of byKind(objects, 'Service')) {
      const selector = (service as unknown as { spec: { selector: Record<string, string> } }).spec.selector;
      expect(
        objects.filter(
          (o) => WORKLOAD_KINDS.includes(o.kind) && o.metadata.namespace === service.metadata.namespace && selects({ matchLabels: selector }, podLabels(o)),
        ),
        service.metadata.name,
      ).toHaveLength(1);
    }
    const ingress = named(objects, 'Ingress', 'crucible') as unknown as {
      spec: { rules: Array<{ http: { paths: Array<{ backend: { service: { name: string } } }> } }> };
    };
    for (const p of ingress.spec.rules[0]!.http.paths) expect(named(objects, 'Service', p.backend.service.name).metadata.namespace).toBe('crucible');
  });
});

const promSkip = skip ?? missingTool('prometheus', 'prometheus');

describe.skipIf(promSkip)(`what KEDA counts: every waiting evaluation, prioritized ones included${promSkip ? ` (skipped: ${promSkip})` : ''}`, () => {
  const namespace = testSchemaName();
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let server: Awaited<ReturnType<typeof startTestServer>> | undefined;
  let prometheus: PrometheusServer | undefined;
  afterAll(async () => {
    redis.disconnect();
    await prometheus?.stop();
    await server?.stop();
    await dropSchema(namespace);
    await deleteNamespaceKeys(REDIS_URL, namespace);
  }, 60_000);

  it("the Redis trigger's list misses a project's prioritized evaluations; the Prometheus trigger's query counts them all", async () => {
    const scaled = scaledObject(await renderOverlay('scale-out'));
    // An API-only deployment (no worker takes the jobs), scraped by a real Prometheus.
    server = await startTestServer({ databaseUrl: PG_URL, redisUrl: REDIS_URL, namespace, workers: 0 });
    prometheus = await startPrometheus(testConfig({ 'crucible-api': [new URL(server.url).host], 'crucible-worker': [] }));
    // One project's backlog of three: the first goes to BullMQ's wait list, the next two (fair
    // share ranks 2 and 3) to its prioritized sorted set.
    for (let i = 0; i < 3; i++) expect((await api(server.url, 'POST', '/api/evaluations', { code: `print(${i})` })).status).toBe(202);

    await redis.connect();
    const listName = trigger(scaled, 'redis').metadata.listName!.replace(/^crucible:/, `${namespace}:`);
    expect(await redis.type(listName)).toBe('list');
    expect(await redis.llen(listName)).toBe(1);
    expect(await redis.zcard(listName.replace(/:wait$/, ':prioritized'))).toBe(2);
    await waitForQuery(prometheus, trigger(scaled, 'prometheus').metadata.query!, (v) => v === 3);
  }, 90_000);
});
