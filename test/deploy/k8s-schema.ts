import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Offline validation of rendered Kubernetes objects against the Kubernetes (and
 * prometheus-operator) OpenAPI schemas that `kubernetes-models` ships as validators.
 *
 * Those schemas, like the API server's, accept unknown fields, so a typo such as
 * `readinessprobe:` would pass them and be dropped silently by the cluster. The second
 * check walks the same models' type declarations and rejects any field the API does
 * not define (what `kubectl apply --validate=strict` and `kubeconform -strict` do).
 */

type K8sObject = { apiVersion: string; kind: string; [key: string]: unknown };

function modelSpecifier(apiVersion: string, kind: string): string {
  if (apiVersion.startsWith('monitoring.coreos.com/')) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/** Schema errors of one object (empty when valid); throws for a kind no model knows. */
export async function schemaErrors(object: K8sObject): Promise<string[]> {
  const specifier = modelSpecifier(object.apiVersion, object.kind);
  const module = await import(specifier);
  const Model = module[object.kind] as new (data: unknown) => { validate(): void };
  const errors: string[] = [];
  try {
    new Model(object).validate();
  } catch (error) {
    errors.push(String(error instanceof Error ? error.message : error));
  }
  const declarations = Bun.resolveSync(specifier, import.meta.dir).replace(/\.js$/, '.d.ts');
  errors.push(...unknownFields(object, declarations, object.kind));
  return errors;
}

type Field = { declarations?: string };
type Shape = { fields: Map<string, Field>; open: boolean } | null;
const shapes = new Map<string, Shape>();

/** The fields of the first interface in a model's .d.ts; null for type aliases (leaves). */
function shapeOf(declarations: string): Shape {
  const cached = shapes.get(declarations);
  if (cached !== undefined) return cached;
  const text = readFileSync(declarations, 'utf8').replace(/\/\*\*[\s\S]*?\*\//g, '');
  const imports = new Map<string, string>();
  for (const match of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) imports.set(match[1]!, match[2]!);
  const body = /^export interface \w+(?: extends ([\w, ]+))? \{\n([\s\S]*?)\n\}$/m.exec(text);
  let shape: Shape = null;
  if (body) {
    const fields = new Map<string, Field>();
    const members = body[2]!;
    let open = /^ {4}\[key: string\]/m.test(members);
    // Inherited fields (e.g. a ServiceMonitor endpoint extends the HTTP client config).
    for (const parent of (body[1] ?? '').split(',').map((name) => name.trim())) {
      const from = imports.get(parent);
      const inherited = from ? shapeOf(resolveDeclarations(from, declarations)) : null;
      if (inherited) inherited.fields.forEach((field, name) => fields.set(name, field));
      if (inherited?.open) open = true;
    }
    for (const match of members.matchAll(/^ {4}"([^"]+)"\??: (.*?);?$/gm)) {
      const reference = /^(?:Array<)?(I\w+)>?$/.exec(match[2]!)?.[1];
      const from = reference ? imports.get(reference) : undefined;
      fields.set(match[1]!, from ? { declarations: resolveDeclarations(from, declarations) } : {});
    }
    shape = { fields, open };
  }
  shapes.set(declarations, shape);
  return shape;
}

function resolveDeclarations(from: string, importer: string): string {
  const js = from.startsWith('.') ? resolve(dirname(importer), from) : Bun.resolveSync(from, dirname(importer));
  return js.replace(/\.js$/, '.d.ts');
}

function unknownFields(value: unknown, declarations: string, path: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => unknownFields(item, declarations, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  const shape = shapeOf(declarations);
  if (!shape || shape.open) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const field = shape.fields.get(key);
    if (!field) return [`${path}.${key}: unknown field`];
    return field.declarations ? unknownFields(child, field.declarations, `${path}.${key}`) : [];
  });
}
