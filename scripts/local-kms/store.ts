import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EccKeySpec } from './ecdsa';
import type { WrappingAlgorithm } from './key-import';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport';

/** The pending import of an EXTERNAL key: the wrapping key and the token that names it. */
export interface ImportParameters {
  readonly token: string; // hex; the ImportToken blob
  readonly wrappingPrivateKeyPem: string;
  readonly algorithm: WrappingAlgorithm;
  readonly validTo: number; // epoch seconds
}

/** One KMS key, as the emulator keeps it. */
export interface KeyRecord {
  readonly keyId: string;
  readonly arn: string;
  readonly region: string;
  readonly keySpec: EccKeySpec;
  readonly origin: 'AWS_KMS' | 'EXTERNAL';
  readonly description: string;
  readonly creationDate: number; // epoch seconds
  state: KeyState;
  /** The private scalar (hex); absent while no key material is there. */
  privateKey?: string;
  /** The public key (SPKI hex) of the first material imported: KMS accepts only that material again. */
  importedPublicKey?: string;
  expirationModel?: 'KEY_MATERIAL_DOES_NOT_EXPIRE' | 'KEY_MATERIAL_EXPIRES';
  validTo?: number;
  deletionDate?: number;
  pendingWindowInDays?: number;
  importParameters?: ImportParameters;
}

/** An alias and the key it points to. */
export interface AliasRecord {
  readonly aliasName: string;
  readonly region: string;
  targetKeyId: string;
  readonly creationDate: number;
  lastUpdatedDate: number;
}

interface Snapshot {
  version: 1;
  keys: KeyRecord[];
  aliases: AliasRecord[];
}

/**
 * Keys and aliases, in memory; with a data directory, every change is written to `state.json` there (mode
 * 0600, directory 0700, temp file + rename) so that keys survive a restart. The file holds private keys in
 * the clear: it is a development tool's state, not a vault.
 */
export class KeyStore {
  readonly keys = new Map<string, KeyRecord>();
  readonly aliases = new Map<string, AliasRecord>(); // by `${region}/${aliasName}`

  constructor(private readonly dataDir?: string) {
    if (!dataDir) return;
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700); // mkdir leaves the mode of a directory that already existed as it was
    let snapshot: Snapshot;
    try {
      snapshot = JSON.parse(readFileSync(this.file(), 'utf8')) as Snapshot;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const key of snapshot.keys) this.keys.set(key.keyId, key);
    for (const alias of snapshot.aliases) this.aliases.set(`${alias.region}/${alias.aliasName}`, alias);
  }

  /** Writes the state to the data directory, if there is one. */
  save(): void {
    if (!this.dataDir) return;
    const snapshot: Snapshot = { version: 1, keys: [...this.keys.values()], aliases: [...this.aliases.values()] };
    const temp = `${this.file()}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(snapshot, null, 2), { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, this.file());
  }

  /** The path of the state file. */
  file(): string {
    return join(this.dataDir ?? '.', 'state.json');
  }
}
