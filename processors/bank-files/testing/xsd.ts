import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateXML } from 'xmllint-wasm';

/**
 * XSD validation of bank files with libxml2 compiled to WebAssembly (xmllint-wasm): the
 * same validator banks' own tooling often uses, no native build, offline. The schemas
 * are the vendored ISO 20022 ones (../xsd/README.md).
 */
export type SchemaName = 'pain.008.001.02' | 'pain.001.001.03' | 'camt.054.001.02' | 'camt.054.001.04';

const XSD_DIR = join(import.meta.dir, '..', 'xsd');
const schemas = new Map<SchemaName, string>();

function schemaText(name: SchemaName): string {
  let text = schemas.get(name);
  if (!text) {
    text = readFileSync(join(XSD_DIR, `${name}.xsd`), 'utf8');
    schemas.set(name, text);
  }
  return text;
}

export type Validation = { valid: boolean; errors: string[] };

/** Validates several documents against one schema in one libxml2 run (each run costs a few hundred ms). */
export async function validateAll(name: SchemaName, documents: readonly string[]): Promise<Validation> {
  const result = await validateXML({
    xml: documents.map((contents, index) => ({ fileName: `document-${index}.xml`, contents })),
    schema: [{ fileName: `${name}.xsd`, contents: schemaText(name) }],
  });
  return { valid: result.valid, errors: result.errors.map((error) => error.message) };
}

export function validate(name: SchemaName, document: string): Promise<Validation> {
  return validateAll(name, [document]);
}
