import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { resolveConfig } from '../../src/config/config.ts';
import { repoRoot } from '../support/built-entry.ts';

const base = join(repoRoot, 'deploy', 'kubernetes', 'base');
const kustomization = parseYaml(readFileSync(join(base, 'kustomization.yaml'), 'utf8')) as { resources: string[] };

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
} & Record<string, unknown>;

const manifests: Manifest[] = kustomization.resources.map(
  (file) => parseYaml(readFileSync(join(base, file), 'utf8')) as Manifest,
);

/** The models of kubernetes-models validate against the Kubernetes (and Prometheus Operator) OpenAPI schemas. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'v1 Secret': Secret,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1 ServiceMonitor': ServiceMonitor,
};

function find<T>(kind: string): T {
  const found = manifests.find((m) => m.kind === kind);
  if (!found) throw new Error(`no ${kind} in the kustomize base`);
  return found as T;
}

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  selector !== undefined &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

describe('the Kubernetes kustomize base', () => {
  it('validates every manifest against the API schemas, offline', () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual([
      'Deployment',
      'PodDisruptionBudget',
      'Secret',
      'Service',
      'ServiceMonitor',
    ]);
    for (const m of manifests) {
      const Model = MODELS[`${m.apiVersion} ${m.kind}`];
      if (!Model) throw new Error(`no schema for ${m.apiVersion} ${m.kind}`);
      expect(() => new Model(m as never).validate(), `${m.kind} ${m.metadata.name}`).not.toThrow();
    }
    // The validator has teeth: a wrong type is refused.
    const broken = structuredClone(find<Manifest>('Deployment')) as unknown as { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas/);
  });

  it('runs two non-root, read-only replicas with liveness on /health and readiness on /ready', () => {
    const d = find<Deployment>('Deployment');
    expect(d.spec?.replicas).toBe(2);
    const pod = d.spec?.template.spec;
    const [container] = pod?.containers ?? [];
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(container?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container?.livenessProbe?.httpGet?.path).toBe('/health');
    expect(container?.readinessProbe?.httpGet?.path).toBe('/ready');
    // A host gets up to 5 s in the readiness check: the probe must wait longer.
    expect(container?.readinessProbe?.timeoutSeconds).toBeGreaterThan(5);
    const ports = new Set(container?.ports?.map((p) => p.name));
    for (const probe of [container?.livenessProbe, container?.readinessProbe, container?.startupProbe]) {
      expect(ports.has(String(probe?.httpGet?.port))).toBe(true);
    }
    expect(matches(d.spec?.selector.matchLabels, d.spec?.template.metadata?.labels)).toBe(true);
  });

  it('points the Service, the PodDisruptionBudget and the ServiceMonitor at those pods', () => {
    const d = find<Deployment>('Deployment');
    const podLabels = d.spec?.template.metadata?.labels;
    const service = find<Service>('Service');
    expect(matches(service.spec?.selector, podLabels)).toBe(true);
    const pdb = find<PodDisruptionBudget>('PodDisruptionBudget');
    expect(matches(pdb.spec?.selector?.matchLabels, podLabels)).toBe(true);
    expect(pdb.spec?.minAvailable).toBe(1);
    const monitor = find<ServiceMonitor>('ServiceMonitor');
    expect(matches(monitor.spec.selector.matchLabels, service.metadata?.labels)).toBe(true);
    const servicePorts = service.spec?.ports?.map((p) => p.name);
    for (const endpoint of monitor.spec.endpoints ?? []) expect(servicePorts).toContain(endpoint.port);
  });

  it('ships a configuration the gateway accepts once a token digest is pasted in', async () => {
    const secret = find<Secret>('Secret');
    const text = secret.stringData?.['virtql.yaml'] ?? '';
    expect(secret.stringData?.REDIS_URL).toMatch(/^redis:\/\//);
    const pasted = text.replace('REPLACE_WITH_THE_DIGEST_NPM_RUN_TOKEN_PRINTS', createApiToken().sha256);
    const config = await resolveConfig(parseYaml(pasted), { env: {} });
    expect(config.host).toBe('0.0.0.0');
    expect(config.security.metrics?.listen).toBe('0.0.0.0:9464');
    expect(config.hosts.map((h) => h.name)).toEqual(['kvm1']);
    // As shipped, with the placeholder, it is refused: nothing runs open by accident.
    await expect(resolveConfig(parseYaml(text), { env: {} })).rejects.toThrow(/sha256/);
  });
});
