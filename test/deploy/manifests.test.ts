import { describe, expect, test } from 'bun:test';
import { resolve } from 'node:path';
import {
  DEPLOY,
  ENVIRONMENTS,
  KUBECTL,
  NIMBUS_ENV,
  announceMissing,
  find,
  kustomize,
  quantity,
  type Environment,
  type K8sObject,
} from './helpers';
import { schemaErrors } from './k8s-schema';

/**
 * Every overlay renders with kustomize, every rendered object is valid (strictly) for
 * the Kubernetes API, and the properties DevOps rely on hold in each environment:
 * security context, probes, resources, drain timing, secrets by reference only,
 * networking, autoscaling and zone spreading.
 */

announceMissing('kubectl', KUBECTL, 'kustomize rendering of deploy/k8s and deploy/prometheus');

const rendered = new Map<Environment, K8sObject[]>();
if (KUBECTL) for (const env of ENVIRONMENTS) rendered.set(env, kustomize(resolve(DEPLOY, 'k8s/overlays', env)));

const SECRET_KEYS = ['DATABASE_URL', 'NIMBUS_JWT_PRIVATE_JWKS', 'NIMBUS_FINGERPRINT_KEY', 'NIMBUS_WEBHOOK_SECRET_KEYS', 'NIMBUS_METRICS_TOKEN'];
/** Only the migration Job gets the owner's connection string. */
const OWNER_KEY = 'NIMBUS_MIGRATION_DATABASE_URL';
const EXPECTED_KINDS = [
  'ConfigMap/nimbus-config',
  'Deployment/nimbus-api',
  'Deployment/nimbus-worker',
  'HorizontalPodAutoscaler/nimbus-api',
  'Ingress/nimbus-api',
  'Job/nimbus-migrate',
  'Namespace/',
  'NetworkPolicy/nimbus-api-ingress',
  'NetworkPolicy/nimbus-default-deny',
  'NetworkPolicy/nimbus-egress',
  'NetworkPolicy/nimbus-worker-ingress',
  'PodDisruptionBudget/nimbus-api',
  'PodDisruptionBudget/nimbus-worker',
  'Service/nimbus-api',
  'Service/nimbus-worker',
  'ServiceAccount/nimbuspay',
  'ServiceMonitor/nimbuspay',
];

type Container = Record<string, any>;
type Workload = { object: K8sObject; pod: Record<string, any>; containers: Container[] };

function workloads(objects: K8sObject[]): Workload[] {
  return objects
    .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
    .map((object) => {
      const pod = object.spec.template.spec;
      return { object, pod, containers: [...(pod.initContainers ?? []), ...pod.containers] };
    });
}

function configOf(objects: K8sObject[]): Record<string, string> {
  return objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('nimbus-config-'))!.data;
}

/** A value the manifests must define; a clear failure (not a TypeError further on) when they do not. */
function required(value: string | undefined, what: string): string {
  if (value === undefined) throw new Error(`${what} is not set in the rendered manifests`);
  return value;
}

function matches(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

describe.skipIf(!KUBECTL)('deploy/k8s overlays', () => {
  describe.each(ENVIRONMENTS)('%s', (env) => {
    const objects = () => rendered.get(env)!;
    const namespace = `nimbus-${env}`;

    test('renders the complete set of objects, and no Secret', () => {
      const kinds = objects()
        .map((o) => `${o.kind}/${o.kind === 'Namespace' ? '' : o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`)
        .sort();
      expect(kinds).toEqual(EXPECTED_KINDS);
      // Secrets are referenced, never rendered: nothing secret is committed.
      expect(objects().filter((o) => o.kind === 'Secret')).toEqual([]);
    });

    test('every object validates against the Kubernetes schemas, unknown fields included', async () => {
      for (const object of objects()) {
        expect({ object: `${object.kind}/${object.metadata.name}`, errors: await schemaErrors(object) }).toEqual({
          object: `${object.kind}/${object.metadata.name}`,
          errors: [],
        });
      }
    });

    test(`everything lives in namespace ${namespace}, which enforces the restricted pod security profile`, () => {
      const ns = find(objects(), 'Namespace', namespace);
      expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
      for (const object of objects().filter((o) => o.kind !== 'Namespace')) {
        expect(`${object.kind}/${object.metadata.name} in ${object.metadata.namespace}`).toBe(
          `${object.kind}/${object.metadata.name} in ${namespace}`,
        );
      }
    });

    test(`sets NIMBUS_ENV=${NIMBUS_ENV[env]} and cluster-safe settings`, () => {
      const config = configOf(objects());
      expect(config.NIMBUS_ENV).toBe(NIMBUS_ENV[env]);
      expect(config.HOST).toBe('0.0.0.0');
      expect(config.PORT).toBe('3000');
      expect(config.NIMBUS_WEBHOOK_ALLOW_PRIVATE).toBe('false');
      expect(config.NIMBUS_ISSUER).toMatch(/^https:\/\/[a-z0-9.-]+$/);
      for (const key of SECRET_KEYS) expect(config[key]).toBeUndefined();
    });

    test('every container runs non-root, read-only, without privileges or capabilities', () => {
      for (const { object, pod, containers } of workloads(objects())) {
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(pod.serviceAccountName).toBe('nimbuspay');
        expect(pod.securityContext.runAsNonRoot).toBe(true);
        expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
        expect(pod.hostNetwork ?? false).toBe(false);
        for (const container of containers) {
          const security = container.securityContext ?? {};
          const where = `${object.kind}/${object.metadata.name}/${container.name}`;
          expect({ where, runAsNonRoot: security.runAsNonRoot ?? pod.securityContext.runAsNonRoot }).toEqual({ where, runAsNonRoot: true });
          expect({ where, allowPrivilegeEscalation: security.allowPrivilegeEscalation }).toEqual({ where, allowPrivilegeEscalation: false });
          expect({ where, readOnlyRootFilesystem: security.readOnlyRootFilesystem }).toEqual({ where, readOnlyRootFilesystem: true });
          expect({ where, privileged: security.privileged ?? false }).toEqual({ where, privileged: false });
          expect({ where, drop: security.capabilities?.drop, add: security.capabilities?.add }).toEqual({ where, drop: ['ALL'], add: undefined });
          expect({ where, seccomp: (security.seccompProfile ?? pod.securityContext.seccompProfile)?.type }).toEqual({ where, seccomp: 'RuntimeDefault' });
          // With a read-only root, /tmp is the one writable path.
          const tmp = container.volumeMounts?.find((m: any) => m.mountPath === '/tmp');
          expect(pod.volumes.find((v: any) => v.name === tmp?.name)?.emptyDir).toBeDefined();
        }
      }
    });

    test('every container has CPU and memory requests and limits, requests within limits', () => {
      for (const { object, containers } of workloads(objects())) {
        for (const container of containers) {
          const { requests = {}, limits = {} } = container.resources ?? {};
          for (const resource of ['cpu', 'memory']) {
            const where = `${object.metadata.name}/${container.name} ${resource}`;
            expect({ where, request: requests[resource] !== undefined, limit: limits[resource] !== undefined }).toEqual({ where, request: true, limit: true });
            expect(quantity(requests[resource])).toBeLessThanOrEqual(quantity(limits[resource]));
          }
        }
      }
    });

    test('every long-running container has startup, liveness and readiness probes on the health endpoints', () => {
      for (const { object, containers } of workloads(objects()).filter((w) => w.object.kind === 'Deployment')) {
        for (const container of containers) {
          const where = `${object.metadata.name}/${container.name}`;
          const ports = new Set((container.ports ?? []).map((p: any) => p.name));
          const probe = (name: string) => ({ where, probe: name, path: container[name]?.httpGet?.path, portKnown: ports.has(container[name]?.httpGet?.port) });
          expect(probe('startupProbe')).toEqual({ where, probe: 'startupProbe', path: '/health/live', portKnown: true });
          expect(probe('livenessProbe')).toEqual({ where, probe: 'livenessProbe', path: '/health/live', portKnown: true });
          expect(probe('readinessProbe')).toEqual({ where, probe: 'readinessProbe', path: '/health/ready', portKnown: true });
          // Liveness must not restart a pod for a database outage: only readiness looks at it.
          expect(container.livenessProbe.httpGet.path).not.toBe('/health/ready');
        }
      }
    });

    test('the migration Job runs `nimbus migrate` once and gives up instead of looping', () => {
      const job = find(objects(), 'Job', 'nimbus-migrate');
      const [container] = job.spec.template.spec.containers;
      // A Job's container exits when done: it gets a deadline and a retry limit instead of probes.
      expect(container.args).toEqual(['migrate']);
      expect(job.spec.template.spec.restartPolicy).toBe('Never');
      expect(job.spec.backoffLimit).toBeLessThanOrEqual(3);
      expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(0);
      expect(job.metadata.labels?.['nimbuspay.io/deploy-phase']).toBe('pre-rollout');
    });

    test('the objects the migration needs are applied in the pre-rollout phase with it', () => {
      const early = objects().filter((o) => o.metadata.labels?.['nimbuspay.io/deploy-phase'] === 'pre-rollout');
      const names = early.map((o) => `${o.kind}/${o.metadata.name}`);
      const job = find(objects(), 'Job', 'nimbus-migrate');
      expect(names).toContain(`Namespace/${namespace}`);
      expect(names).toContain(`ServiceAccount/${job.spec.template.spec.serviceAccountName}`);
      expect(names).toContain(`ConfigMap/${job.spec.template.spec.containers[0].envFrom[0].configMapRef.name}`);
      expect(names).toContain('NetworkPolicy/nimbus-egress');
      expect(early.filter((o) => o.kind === 'Deployment')).toEqual([]);
    });

    test('containers get settings from the generated ConfigMap and secrets by reference only', () => {
      const configMaps = new Set(objects().filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name));
      for (const { object, containers } of workloads(objects())) {
        for (const container of containers) {
          const where = `${object.metadata.name}/${container.name}`;
          expect(container.envFrom.map((e: any) => configMaps.has(e.configMapRef?.name))).toEqual([true]);
          const secretEnv = container.env.filter((e: any) => e.valueFrom?.secretKeyRef);
          // No secret value written inline; each variable comes from the key of its own name.
          expect(container.env.filter((e: any) => SECRET_KEYS.includes(e.name) && e.value !== undefined)).toEqual([]);
          for (const e of secretEnv) expect(e.valueFrom.secretKeyRef).toEqual({ name: 'nimbus-secrets', key: e.name });
          // The Job migrates as the schema owner; the servers never hold the owner's credentials.
          const needed = object.kind === 'Job' ? [...SECRET_KEYS.filter((k) => k !== 'NIMBUS_METRICS_TOKEN'), OWNER_KEY] : SECRET_KEYS;
          expect({ where, keys: secretEnv.map((e: any) => e.name).sort() }).toEqual({ where, keys: [...needed].sort() });
        }
      }
    });

    test('images are the ECR repository with the tag placeholder that deploy.sh replaces', () => {
      for (const { containers } of workloads(objects())) {
        for (const container of containers) {
          expect(container.image).toMatch(/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/nimbuspay:set-by-deploy-script$/);
          expect(container.imagePullPolicy).toBe('IfNotPresent');
        }
      }
    });

    test('the API drains within its grace period: preStop sleep + app drain fit before SIGKILL', () => {
      const graceMs = Number(configOf(objects()).NIMBUS_SHUTDOWN_GRACE_MS);
      expect(graceMs).toBeGreaterThan(0);
      const api = find(objects(), 'Deployment', 'nimbus-api').spec.template.spec;
      const [container] = api.containers;
      expect(container.args).toEqual(['serve', '--no-worker']);
      const preStop = container.lifecycle.preStop.sleep.seconds;
      expect(preStop).toBeGreaterThanOrEqual(5);
      expect(api.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + graceMs / 1000 + 5);
      // The ALB must have let go of a pod before it stops answering.
      const ingress = find(objects(), 'Ingress', 'nimbus-api');
      const delay = /deregistration_delay\.timeout_seconds=(\d+)/.exec(
        required(ingress.metadata.annotations!['alb.ingress.kubernetes.io/target-group-attributes'], 'the target-group-attributes annotation'),
      );
      expect(Number(delay?.[1])).toBeLessThanOrEqual(preStop + graceMs / 1000);

      const worker = find(objects(), 'Deployment', 'nimbus-worker').spec.template.spec;
      expect(worker.containers[0].args).toEqual(['worker']);
      expect(worker.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(graceMs / 1000 + 5);
    });

    test('rollouts never drop capacity', () => {
      for (const name of ['nimbus-api', 'nimbus-worker']) {
        expect(find(objects(), 'Deployment', name).spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
      }
    });

    test('Services and the Ingress reach the pods by their labels and named ports', () => {
      for (const name of ['nimbus-api', 'nimbus-worker']) {
        const service = find(objects(), 'Service', name);
        const pod = find(objects(), 'Deployment', name).spec.template;
        expect(matches(service.spec.selector, pod.metadata.labels)).toBe(true);
        const portNames = pod.spec.containers[0].ports.map((p: any) => p.name);
        for (const port of service.spec.ports) expect(portNames).toContain(port.targetPort);
      }
      const ingress = find(objects(), 'Ingress', 'nimbus-api');
      const paths = ingress.spec.rules[0].http.paths;
      const root = paths.find((p: any) => p.path === '/');
      const service = find(objects(), 'Service', root.backend.service.name);
      expect(service.spec.ports.map((p: any) => p.name)).toContain(root.backend.service.port.name);
    });

    test('the Ingress is an internet-facing HTTPS ALB that health-checks /health/ready and hides /metrics', () => {
      const ingress = find(objects(), 'Ingress', 'nimbus-api');
      const a = ingress.metadata.annotations!;
      expect(ingress.spec.ingressClassName).toBe('alb');
      expect(a['alb.ingress.kubernetes.io/scheme']).toBe('internet-facing');
      expect(a['alb.ingress.kubernetes.io/target-type']).toBe('ip');
      expect(JSON.parse(required(a['alb.ingress.kubernetes.io/listen-ports'], 'the listen-ports annotation'))).toContainEqual({ HTTPS: 443 });
      expect(a['alb.ingress.kubernetes.io/ssl-redirect']).toBe('443');
      expect(a['alb.ingress.kubernetes.io/healthcheck-path']).toBe('/health/ready');
      // The TLS host (certificate discovery), the rule host and the token issuer agree.
      const host = new URL(required(configOf(objects()).NIMBUS_ISSUER, 'NIMBUS_ISSUER')).host;
      expect(ingress.spec.rules.map((r: any) => r.host)).toEqual([host]);
      expect(ingress.spec.tls).toEqual([{ hosts: [host] }]);
      const metrics = ingress.spec.rules[0].http.paths.find((p: any) => p.path === '/metrics');
      const actionAnnotation = `alb.ingress.kubernetes.io/actions.${metrics.backend.service.name}`;
      const action = JSON.parse(required(a[actionAnnotation], actionAnnotation));
      expect(action.type).toBe('fixed-response');
      expect(metrics.backend.service.port.name).toBe('use-annotation');
    });

    test('the API autoscales on CPU, owning its replica count; PDBs allow one disruption at a time', () => {
      const hpa = find(objects(), 'HorizontalPodAutoscaler', 'nimbus-api');
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'nimbus-api' });
      expect(hpa.spec.metrics.map((m: any) => m.resource?.name)).toEqual(['cpu']);
      expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
      // A `replicas` field would fight the HPA on every apply.
      expect(find(objects(), 'Deployment', 'nimbus-api').spec.replicas).toBeUndefined();
      for (const name of ['nimbus-api', 'nimbus-worker']) {
        const pdb = find(objects(), 'PodDisruptionBudget', name);
        expect(pdb.spec.maxUnavailable).toBe(1);
        expect(matches(pdb.spec.selector.matchLabels, find(objects(), 'Deployment', name).spec.template.metadata.labels)).toBe(true);
      }
    });

    test('network policies: deny by default; ALB and Prometheus in; DNS, PostgreSQL and HTTPS out', () => {
      const policies = objects().filter((o) => o.kind === 'NetworkPolicy');
      const selecting = (labels: Record<string, string>) => policies.filter((p) => matches(p.spec.podSelector.matchLabels, labels));
      for (const { object } of workloads(objects())) {
        const labels = object.spec.template.metadata.labels;
        const types = new Set(selecting(labels).flatMap((p) => p.spec.policyTypes));
        expect({ pod: object.metadata.name, types: [...types].sort() }).toEqual({ pod: object.metadata.name, types: ['Egress', 'Ingress'] });
        // Nothing is opened without a port.
        for (const policy of selecting(labels)) {
          for (const rule of [...(policy.spec.ingress ?? []), ...(policy.spec.egress ?? [])]) expect(rule.ports?.length).toBeGreaterThan(0);
        }
      }
      const api = find(objects(), 'Deployment', 'nimbus-api').spec.template.metadata.labels;
      const apiIngress = selecting(api).flatMap((p) => p.spec.ingress ?? []);
      expect(apiIngress.flatMap((r: any) => r.ports.map((p: any) => p.port))).toEqual([3000, 3000]);
      const sources = apiIngress.flatMap((r: any) => r.from);
      expect(sources.some((s: any) => s.ipBlock?.cidr)).toBe(true);
      expect(sources.some((s: any) => s.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'prometheus')).toBe(true);
      const job = find(objects(), 'Job', 'nimbus-migrate').spec.template.metadata.labels;
      expect(selecting(job).flatMap((p) => p.spec.ingress ?? [])).toEqual([]);
      const egressPorts = selecting(api)
        .flatMap((p) => p.spec.egress ?? [])
        .flatMap((r: any) => r.ports.map((p: any) => `${p.protocol}/${p.port}`))
        .sort();
      expect(egressPorts).toEqual(['TCP/443', 'TCP/53', 'TCP/5432', 'UDP/53']);
    });

    test('the ServiceMonitor scrapes /metrics of API and worker pods with the metrics token', () => {
      const monitor = find(objects(), 'ServiceMonitor', 'nimbuspay');
      for (const name of ['nimbus-api', 'nimbus-worker']) {
        const service = find(objects(), 'Service', name);
        const labels = service.metadata.labels!;
        expect(matches(monitor.spec.selector.matchLabels, labels)).toBe(true);
        for (const expression of monitor.spec.selector.matchExpressions) {
          expect(expression.values).toContain(labels[expression.key]);
        }
      }
      expect(monitor.spec.endpoints).toHaveLength(1);
      const [endpoint] = monitor.spec.endpoints;
      expect(endpoint.path).toBe('/metrics');
      expect(endpoint.port).toBe('http');
      expect(endpoint.authorization.credentials).toEqual({ name: 'nimbus-secrets', key: 'NIMBUS_METRICS_TOKEN' });
    });
  });

  test('production runs at least 3 API pods spread over zones, and more than dev', () => {
    const production = rendered.get('production')!;
    const hpa = find(production, 'HorizontalPodAutoscaler', 'nimbus-api');
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(3);
    expect(hpa.spec.minReplicas).toBeGreaterThan(find(rendered.get('dev')!, 'HorizontalPodAutoscaler', 'nimbus-api').spec.minReplicas);
    for (const name of ['nimbus-api', 'nimbus-worker']) {
      const pod = find(production, 'Deployment', name).spec.template;
      const zone = pod.spec.topologySpreadConstraints.find((c: any) => c.topologyKey === 'topology.kubernetes.io/zone');
      expect(zone.whenUnsatisfiable).toBe('DoNotSchedule');
      expect(zone.maxSkew).toBe(1);
      expect(matches(zone.labelSelector.matchLabels, pod.metadata.labels)).toBe(true);
    }
    expect(find(production, 'Deployment', 'nimbus-worker').spec.replicas).toBeGreaterThanOrEqual(2);
  });

  test('each environment has its own public host', () => {
    const hosts = ENVIRONMENTS.map((env) => configOf(rendered.get(env)!).NIMBUS_ISSUER);
    expect(new Set(hosts).size).toBe(ENVIRONMENTS.length);
  });

  test('deploy/prometheus renders a valid PrometheusRule', async () => {
    const objects = kustomize(resolve(DEPLOY, 'prometheus'));
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}`)).toEqual(['PrometheusRule/monitoring']);
    expect(await schemaErrors(objects[0]!)).toEqual([]);
  });
});
