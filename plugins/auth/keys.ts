import { desc, gt, isNull, or, sql } from 'drizzle-orm';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { type Database, schema } from '../../db';
import type { Config } from '../../runtime/config';

/** A signing key: the private half signs, the public half is published in the JWKS. */
interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: PublicJwk;
}

export interface PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

/** A generated key keeps being published this long after it stops signing (the longest token lifetime). */
const RETIRED_KEY_GRACE_MS = 86_400 * 1000;
/** An unknown `kid` may be a key another replica just generated: look again, but not more often than this. */
const RELOAD_INTERVAL_MS = 5_000;

async function toSigningKey(jwk: JWK & { kid: string }): Promise<SigningKey> {
  const { d: _d, key_ops: _ops, ext: _ext, ...publicPart } = jwk;
  const privateKey = (await importJWK({ ...jwk, alg: 'ES256' }, 'ES256')) as CryptoKey;
  const publicKey = (await importJWK({ ...publicPart, alg: 'ES256' }, 'ES256')) as CryptoKey;
  return {
    kid: jwk.kid,
    privateKey,
    publicKey,
    publicJwk: { kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y), kid: jwk.kid, alg: 'ES256', use: 'sig' },
  };
}

/**
 * The JWT signing keys. Outside development they come from NIMBUS_JWT_PRIVATE_JWKS (the
 * first signs, all are published, so rotation is: add the new key first, keep the old
 * one until its last token expired, then drop it). In development one key is generated
 * once and persisted in `signing_keys`, so tokens survive restarts.
 */
export class KeyStore {
  private keys: SigningKey[] = [];
  private loading: Promise<void> | undefined;
  private loadedAt = 0;

  constructor(
    private readonly config: Config,
    private readonly database: Database,
  ) {}

  private get fromEnvironment(): boolean {
    return this.config.jwtPrivateJwks !== undefined;
  }

  /** Loads (or, in development, creates) the keys once; concurrent callers share the work. */
  ready(): Promise<void> {
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    if (this.fromEnvironment) {
      const set = JSON.parse(this.config.jwtPrivateJwks!) as { keys: Array<JWK & { kid: string }> };
      this.keys = await Promise.all(set.keys.map(toSigningKey));
    } else {
      this.keys = await this.loadPersisted();
      if (this.keys.length === 0) {
        await this.generateAndPersist();
        this.keys = await this.loadPersisted();
      }
    }
    this.loadedAt = Date.now();
  }

  private async loadPersisted(): Promise<SigningKey[]> {
    const cutoff = new Date(Date.now() - RETIRED_KEY_GRACE_MS);
    const rows = await this.database.system((tx) =>
      tx
        .select()
        .from(schema.signingKeys)
        .where(or(isNull(schema.signingKeys.retiredAt), gt(schema.signingKeys.retiredAt, cutoff)))
        .orderBy(sql`${schema.signingKeys.retiredAt} is not null`, desc(schema.signingKeys.createdAt)),
    );
    return Promise.all(rows.map((row) => toSigningKey({ ...(row.privateJwk as JWK), kid: row.kid })));
  }

  private async generateAndPersist(): Promise<void> {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(jwk);
    // Two processes starting at once may both generate: the first insert wins, both then read the table.
    await this.database.system((tx) =>
      tx.insert(schema.signingKeys).values({ kid, privateJwk: { ...jwk, kid } }).onConflictDoNothing(),
    );
  }

  /** The key that signs new tokens. */
  async signer(): Promise<SigningKey> {
    await this.ready();
    return this.keys[0]!;
  }

  /** The public key for a `kid`, or undefined when no key of ours has it. */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    await this.ready();
    let key = this.keys.find((candidate) => candidate.kid === kid);
    if (!key && !this.fromEnvironment && Date.now() - this.loadedAt > RELOAD_INTERVAL_MS) {
      this.loadedAt = Date.now();
      this.keys = await this.loadPersisted();
      key = this.keys.find((candidate) => candidate.kid === kid);
    }
    return key?.publicKey;
  }

  /** Every key that may still have live tokens (RFC 7517 JWK set, public parts only). */
  async publicJwks(): Promise<{ keys: PublicJwk[] }> {
    await this.ready();
    return { keys: this.keys.map((key) => key.publicJwk) };
  }
}

const stores = new WeakMap<Database, Map<string, KeyStore>>();

/** One key store per database and key configuration, shared by the token endpoint and every guard. */
export function keyStoreFor(config: Config, database: Database): KeyStore {
  let byConfig = stores.get(database);
  if (!byConfig) {
    byConfig = new Map();
    stores.set(database, byConfig);
  }
  const id = config.jwtPrivateJwks ?? 'persisted';
  let store = byConfig.get(id);
  if (!store) {
    store = new KeyStore(config, database);
    byConfig.set(id, store);
  }
  return store;
}
