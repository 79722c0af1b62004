/**
 * Just enough XML for bank files, without a dependency: a writer for the messages we
 * send and a strict reader for the ones banks send back. The reader refuses any DOCTYPE,
 * so a status file can neither declare entities nor point at external ones (XXE); it
 * drops namespace prefixes, since ISO 20022 messages are told apart by their root
 * element's namespace, which it keeps.
 */

/** An element to write: children that are `undefined` or `false` are left out (optional fields). */
export type XmlChild = XmlNode | string | undefined | false;
export type XmlNode = { name: string; attributes: Record<string, string>; children: XmlChild[] };

export function el(name: string, ...children: XmlChild[]): XmlNode {
  return { name, attributes: {}, children };
}

export function elWith(name: string, attributes: Record<string, string>, ...children: XmlChild[]): XmlNode {
  return { name, attributes, children };
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&${({ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' } as const)[char as '&']};`);
}

function renderNode(node: XmlNode, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  const attributes = Object.entries(node.attributes)
    .map(([key, value]) => ` ${key}="${escapeXml(value)}"`)
    .join('');
  const children = node.children.filter((child): child is XmlNode | string => child !== undefined && child !== false);
  if (children.length === 1 && typeof children[0] === 'string') {
    out.push(`${pad}<${node.name}${attributes}>${escapeXml(children[0])}</${node.name}>`);
    return;
  }
  out.push(`${pad}<${node.name}${attributes}>`);
  for (const child of children) {
    if (typeof child === 'string') throw new Error(`Mixed content in <${node.name}> is not written.`);
    renderNode(child, depth + 1, out);
  }
  out.push(`${pad}</${node.name}>`);
}

/** A whole document: declaration, two-space indentation, LF line ends, final newline. */
export function renderXml(root: XmlNode): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  renderNode(root, 0, out);
  return `${out.join('\n')}\n`;
}

/** A parsed element: local name, the namespace URI it declares by default (if any), text and children. */
export type XmlElement = {
  name: string;
  namespace?: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
};

export class XmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlError';
  }
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (_match, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    const named = NAMED_ENTITIES[entity];
    if (named === undefined) throw new XmlError(`Unknown entity &${entity};.`);
    return named;
  });
}

const localName = (qualified: string) => qualified.slice(qualified.indexOf(':') + 1);
const ATTRIBUTE = /([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/g;

/** Parses a whole document into its root element; anything malformed is an {@link XmlError}. */
export function parseXml(source: string): XmlElement {
  const text = source.replace(/^\uFEFF/, '');
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let position = 0;
  const fail = (message: string): never => {
    throw new XmlError(`${message} (at character ${position}).`);
  };
  while (position < text.length) {
    const open = text.indexOf('<', position);
    const chunk = text.slice(position, open === -1 ? text.length : open);
    if (chunk.trim() !== '') {
      const current = stack.at(-1) ?? fail('Text outside the root element');
      current.text += decodeEntities(chunk);
    }
    if (open === -1) break;
    position = open;
    if (text.startsWith('<!--', position)) {
      const end = text.indexOf('-->', position);
      if (end === -1) fail('Unterminated comment');
      position = end + 3;
    } else if (text.startsWith('<![CDATA[', position)) {
      const end = text.indexOf(']]>', position);
      const current = stack.at(-1);
      if (end === -1 || !current) fail('Misplaced CDATA section');
      current!.text += text.slice(position + 9, end);
      position = end + 3;
    } else if (text.startsWith('<?', position)) {
      const end = text.indexOf('?>', position);
      if (end === -1) fail('Unterminated processing instruction');
      position = end + 2;
    } else if (text.startsWith('<!', position)) {
      fail('DOCTYPE and other declarations are refused');
    } else if (text.startsWith('</', position)) {
      const end = text.indexOf('>', position);
      if (end === -1) fail('Unterminated end tag');
      const name = localName(text.slice(position + 2, end).trim());
      const current = stack.pop();
      if (!current || current.name !== name) fail(`Unexpected </${name}>`);
      position = end + 1;
    } else {
      const end = text.indexOf('>', position);
      if (end === -1) fail('Unterminated start tag');
      const raw = text.slice(position + 1, end);
      const selfClosing = raw.endsWith('/');
      const body = selfClosing ? raw.slice(0, -1) : raw;
      const match = /^([A-Za-z_][\w.:-]*)/.exec(body) ?? fail('Malformed start tag');
      const tag = match[1]!;
      const element: XmlElement = { name: localName(tag), attributes: {}, children: [], text: '' };
      for (const attribute of body.slice(tag.length).matchAll(ATTRIBUTE)) {
        const value = decodeEntities(attribute[3] ?? attribute[4] ?? '');
        if (attribute[1] === 'xmlns') element.namespace = value;
        else element.attributes[localName(attribute[1]!)] = value;
      }
      const parent = stack.at(-1);
      if (parent) parent.children.push(element);
      else if (root) fail('A second root element');
      else root = element;
      if (!selfClosing) stack.push(element);
      position = end + 1;
    }
  }
  if (stack.length > 0 || !root) throw new XmlError('The document ends inside an element or has no root.');
  return root;
}

/** The first descendant along a path of local names (`child(ntry, 'NtryDtls', 'Btch')`). */
export function child(element: XmlElement | undefined, ...path: string[]): XmlElement | undefined {
  let current = element;
  for (const name of path) current = current?.children.find((candidate) => candidate.name === name);
  return current;
}

/** Every direct child with this local name. */
export function children(element: XmlElement | undefined, name: string): XmlElement[] {
  return element?.children.filter((candidate) => candidate.name === name) ?? [];
}

/** The trimmed text at a path, or undefined when the element is absent. */
export function textAt(element: XmlElement | undefined, ...path: string[]): string | undefined {
  const found = child(element, ...path);
  return found === undefined ? undefined : found.text.trim();
}
