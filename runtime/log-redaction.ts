/**
 * Redaction of log fields by path (`token`, `headers.authorization`, `*.number`,
 * `*.*.cvc`), compiled once into a tree. pino's own `redact` option (@pinojs/redact
 * 0.4) parses every path again for every top-level value of every line: about a tenth of
 * the server's time under load went there for the one access-log line per request. This
 * walks only the keys a line has, copies nothing when nothing matches, and copies only
 * the objects on the way to a censored value (the caller's objects are never changed).
 */

interface PathNode {
  /** Censor the value under this key. */
  censor: boolean;
  children: Map<string, PathNode>;
  /** `*`: any key at this level. */
  any?: PathNode;
}

function node(): PathNode {
  return { censor: false, children: new Map() };
}

function compile(paths: readonly string[]): PathNode {
  const root = node();
  for (const path of paths) {
    let at = root;
    for (const segment of path.split('.')) {
      if (segment === '*') at = at.any ??= node();
      else {
        let next = at.children.get(segment);
        if (!next) at.children.set(segment, (next = node()));
        at = next;
      }
    }
    at.censor = true;
  }
  return root;
}

function redactWith(value: Record<string, unknown>, at: PathNode, censor: string): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const inner = value[key];
    if (inner === undefined) continue;
    const named = at.children.get(key);
    const matches = named && at.any ? [named, at.any] : named ? [named] : at.any ? [at.any] : undefined;
    if (!matches) continue;
    let next = inner;
    for (const match of matches) {
      if (match.censor) {
        next = censor;
        break;
      }
      // Errors go to their own serializer (runtime/log-errors.ts), which writes no values.
      if (next !== null && typeof next === 'object' && !(next instanceof Error) && (match.children.size > 0 || match.any)) {
        next = redactWith(next as Record<string, unknown>, match, censor);
      }
    }
    if (next !== inner) {
      copy ??= Array.isArray(value) ? ([...value] as unknown as Record<string, unknown>) : { ...value };
      copy[key] = next;
    }
  }
  return copy ?? value;
}

/** A function returning `fields` with every value under one of `paths` replaced by `censor` (a copy only when something changed). */
export function createRedactor(paths: readonly string[], censor: string): <T extends Record<string, unknown>>(fields: T) => T {
  const root = compile(paths);
  return (fields) => redactWith(fields, root, censor) as typeof fields;
}
