import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import YAML from 'yaml';

/** Shared by the deploy tests: where things are, which tools exist, how to render. */

export const ROOT = resolve(import.meta.dir, '../..');
export const DEPLOY = resolve(ROOT, 'deploy');
export const ENVIRONMENTS = ['dev', 'staging', 'production'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const NIMBUS_ENV: Record<Environment, string> = {
  dev: 'development',
  staging: 'staging',
  production: 'production',
};

export const KUBECTL = Bun.which('kubectl');
export const PROMTOOL = Bun.which('promtool');

/**
 * Tool-dependent tests skip (never fail) where the tool is absent, e.g. on a laptop
 * running `npm test`; CI installs them with deploy/ci-install.sh. Say so once, loudly.
 */
const INSTALL_HINTS: Record<string, string> = {
  promtool: 'Install it with `sudo bash deploy/ci-install.sh` (Debian/Ubuntu: package `prometheus`)',
  kubectl: 'Install kubectl 1.27 or later (its built-in kustomize renders the overlays)',
};

export function announceMissing(tool: string, path: string | null, what: string): void {
  if (path) return;
  console.warn(`\n[test/deploy] SKIPPING ${what}: \`${tool}\` is not installed. ${INSTALL_HINTS[tool]} to run these tests.\n`);
}

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: any;
};

export function parseYamlDocuments(text: string): K8sObject[] {
  return YAML.parseAllDocuments(text, { uniqueKeys: true })
    .map((doc) => {
      if (doc.errors.length) throw new Error(doc.errors.map((e) => e.message).join('\n'));
      return doc.toJS() as K8sObject;
    })
    .filter((object) => object !== null);
}

/** `kubectl kustomize <dir>`, parsed. */
export function kustomize(dir: string): K8sObject[] {
  if (!KUBECTL) throw new Error('kubectl is not installed');
  const result = spawnSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${result.stderr}`);
  return parseYamlDocuments(result.stdout);
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!object) throw new Error(`${kind}/${name} is not in the rendered manifests`);
  return object;
}

/** Kubernetes quantities ("250m", "1", "512Mi") as numbers, for comparing requests with limits. */
export function quantity(value: string | number): number {
  const match = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(value));
  if (!match) throw new Error(`not a quantity: ${value}`);
  const factor: Record<string, number> = {
    m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
  };
  const [, number, unit] = match;
  const scale = unit ? factor[unit] : 1;
  if (scale === undefined) throw new Error(`unknown quantity unit: ${value}`);
  return Number(number) * scale;
}

/** The GitHub anchor of a Markdown heading: lower case, punctuation dropped, spaces to dashes. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const match of markdown.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)) {
    anchors.add(
      match[1]!
        .toLowerCase()
        .replace(/`/g, '')
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return anchors;
}
