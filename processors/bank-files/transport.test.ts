import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directoryTransport, TransportConflictError } from './transport.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'bank-files-'));
  dirs.push(root);
  const outboxDir = join(root, 'outbox');
  const inboxDir = join(root, 'inbox');
  return { root, outboxDir, inboxDir, transport: directoryTransport({ outboxDir, inboxDir }) };
}

describe('the directory transport', () => {
  test('writes whole files readable by the owner only; the same bytes again are fine, other bytes are refused', async () => {
    const { outboxDir, transport } = setup();
    await transport.deliver({ name: 'NBF-SDD-1.xml', content: '<a/>' });
    await transport.deliver({ name: 'NBF-SDD-1.xml', content: '<a/>' });
    await expect(transport.deliver({ name: 'NBF-SDD-1.xml', content: '<b/>' })).rejects.toBeInstanceOf(TransportConflictError);
    expect(readdirSync(outboxDir)).toEqual(['NBF-SDD-1.xml']); // no partial file left behind
    expect(readFileSync(join(outboxDir, 'NBF-SDD-1.xml'), 'utf8')).toBe('<a/>');
    expect(statSync(join(outboxDir, 'NBF-SDD-1.xml')).mode & 0o777).toBe(0o600);
  });

  test('reads the inbox oldest first, skips hidden and partial files, moves what it read aside', async () => {
    const { inboxDir, transport } = setup();
    await transport.receive(); // creates the inbox
    writeFileSync(join(inboxDir, 'b.xml'), 'B');
    writeFileSync(join(inboxDir, '.hidden'), 'H');
    writeFileSync(join(inboxDir, 'c.xml.part'), 'P');
    const files = await transport.receive();
    expect(files.map((file) => [file.name, file.content])).toEqual([['b.xml', 'B']]);
    await files[0]!.done();
    writeFileSync(join(inboxDir, 'b.xml'), 'B again');
    const [again] = await transport.receive();
    await again!.reject();
    await again!.reject(); // already moved: harmless
    expect(readdirSync(join(inboxDir, 'processed'))).toEqual(['b.xml']);
    expect(readdirSync(join(inboxDir, 'rejected'))).toEqual(['b.xml']);
    expect(await transport.receive()).toEqual([]);
  });
});
