/**
 * Renders the Kustomize overlays offline (`kubectl kustomize`) and validates every rendered object
 * against the Kubernetes OpenAPI schemas (kubernetes-models; KEDA's CRDs from
 * @kubernetes-models/keda). Plus small accessors for the hardening assertions.
 */
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { deployDir, tool } from './ops-tools.js';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export async function renderOverlay(overlay: string): Promise<K8sObject[]> {
  const r = await tool('kubectl', ['kustomize', path.join(deployDir, 'kubernetes/overlays', overlay)]);
  if (r.code !== 0) throw new Error(`kubectl kustomize ${overlay} failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject);
}

/** The module of the model class for an apiVersion/kind, e.g. apps/v1 Deployment. */
function modelModule(apiVersion: string, kind: string): string {
  if (apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/** Schema validation errors of one object ([] when valid); an unknown kind is an error too. */
export async function schemaErrors(object: K8sObject): Promise<string[]> {
  const where = `${object.kind} ${object.metadata.namespace ?? ''}/${object.metadata.name}`;
  let Model: new (data: unknown) => { validate(): void };
  try {
    const module = (await import(modelModule(object.apiVersion, object.kind))) as Record<string, new (data: unknown) => { validate(): void }>;
    Model = module[object.kind]!;
  } catch {
    return [`${where}: no schema for ${object.apiVersion} ${object.kind}`];
  }
  try {
    new Model(object).validate();
    return [];
  } catch (err) {
    return [`${where}: ${(err as Error).message}`];
  }
}

export interface Container {
  name: string;
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[]; add?: string[] } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
}

export interface PodSpec {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  runtimeClassName?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  volumes?: Array<Record<string, unknown>>;
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet'];

export function podSpec(workload: K8sObject): PodSpec {
  return (workload as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
}

export function podLabels(workload: K8sObject): Record<string, string> {
  return (workload as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;
}

export function byKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function named(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

/** Whether a label selector (matchLabels only, as ours are) selects these labels. */
export function selects(selector: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string>): boolean {
  return Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}
