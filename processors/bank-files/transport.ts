import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * How files reach the bank and status files come back. NimbusPay speaks neither SFTP nor
 * EBICS: by default it writes to an outbox directory and reads an inbox directory, and
 * the deployer mounts whatever their bank channel syncs (an SFTP client, an EBICS client,
 * a bank's own agent). Another transport implements this interface.
 */
export interface BankTransport {
  /**
   * Hands one file over. Idempotent: the same name with the same bytes is a success;
   * the same name with other bytes is an error (a file is never rebuilt differently).
   */
  deliver(file: { name: string; content: string }): Promise<void>;
  /** Status files waiting to be read, oldest first. */
  receive(): Promise<InboundFile[]>;
}

export type InboundFile = {
  name: string;
  content: string;
  /** Read and applied (or a duplicate): move it out of the way. */
  done(): Promise<void>;
  /** Not a status file we understand: set it aside for a person. */
  reject(): Promise<void>;
};

export class TransportConflictError extends Error {
  constructor(name: string) {
    super(`The outbox already holds a different file named ${name}.`);
    this.name = 'TransportConflictError';
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A name a status file may have: no path separators, no hidden or partial files. */
const INBOUND_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * outbox/<name>: written to a hidden `.name.part` first and renamed, so a syncing client
 * never picks up half a file. inbox/<name>: read, then moved to inbox/processed/ (or
 * inbox/rejected/); a name already taken there gets a numeric suffix. Two replicas may
 * read the same inbox: the connector dedupes by content hash, and a lost rename race
 * is harmless.
 */
export function directoryTransport(options: { outboxDir: string; inboxDir: string }): BankTransport {
  const { outboxDir, inboxDir } = options;

  async function moveAside(name: string, folder: 'processed' | 'rejected'): Promise<void> {
    const target = join(inboxDir, folder);
    await mkdir(target, { recursive: true });
    let candidate = join(target, name);
    for (let suffix = 1; await exists(candidate); suffix++) candidate = join(target, `${name}.${suffix}`);
    await rename(join(inboxDir, name), candidate).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error; // another replica moved it first
    });
  }

  return {
    async deliver({ name, content }) {
      await mkdir(outboxDir, { recursive: true });
      const path = join(outboxDir, name);
      if (await exists(path)) {
        if (sha256(await readFile(path, 'utf8')) === sha256(content)) return;
        throw new TransportConflictError(name);
      }
      const part = join(outboxDir, `.${name}.part`);
      await writeFile(part, content, { encoding: 'utf8', mode: 0o600 });
      await rename(part, path);
    },
    async receive() {
      await mkdir(inboxDir, { recursive: true });
      const entries = await readdir(inboxDir, { withFileTypes: true });
      const files = await Promise.all(
        entries
          .filter((entry) => entry.isFile() && INBOUND_NAME.test(entry.name) && !entry.name.endsWith('.part'))
          .map(async (entry) => ({ name: entry.name, modified: (await stat(join(inboxDir, entry.name))).mtimeMs })),
      );
      files.sort((a, b) => a.modified - b.modified || a.name.localeCompare(b.name));
      const inbound: InboundFile[] = [];
      for (const { name } of files) {
        const content = await readFile(join(inboxDir, name), 'utf8').catch(() => undefined);
        if (content === undefined) continue; // moved by another replica meanwhile
        inbound.push({ name, content, done: () => moveAside(name, 'processed'), reject: () => moveAside(name, 'rejected') });
      }
      return inbound;
    },
  };
}
