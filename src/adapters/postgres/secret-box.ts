/**
 * Encryption of secrets at rest (spec `clientSecret`s, connection `client_secret`s in planned steps): AES-256-GCM
 * with a random 96-bit IV per value, so the database — and its backups and dumps — never holds a secret in clear.
 *
 * Format: `v1:<iv base64>:<auth tag base64>:<ciphertext base64>`. The version prefix leaves room for another
 * algorithm or key later without guessing what an old value is.
 *
 * The key: `ORGADMIN_SECRET_KEY` (32 bytes in base64 are used as they are; any other string is stretched with
 * scrypt), or else a random key generated once into `<home>/secret.key` (mode 0600) and reused afterwards. Losing
 * that file makes the stored secrets unreadable: back it up with the database.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface SecretBox {
  /** Encrypts `plaintext`; every call gives a different result. */
  seal(plaintext: string): string;
  /** Decrypts what `seal` returned; throws when the value was altered or sealed with another key. */
  open(sealed: string): string;
}

export interface LoadSecretBoxOptions {
  /** `ORGADMIN_SECRET_KEY`: base64 of 32 bytes, or any other (non-empty) string to derive the key from. */
  key?: string | undefined;
  /** orgadmin home folder: `<home>/secret.key` is used (and created) when no key is given. */
  home: string;
}

export const SECRET_KEY_FILE = 'secret.key';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
/** Fixed on purpose: the derived key must be the same in every process given the same string. */
const SCRYPT_SALT = 'orgadmin secret box v1';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function createSecretBox(key: Uint8Array): SecretBox {
  if (key.length !== KEY_BYTES) throw new Error(`A secret box key must be ${KEY_BYTES} bytes`);
  const secretKey = Buffer.from(key);
  return {
    seal(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', secretKey, iv);
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, iv.toString('base64'), tag.toString('base64'), ciphertext.toString('base64')].join(
        ':',
      );
    },
    open(sealed) {
      const [version, iv, tag, ciphertext, ...rest] = sealed.split(':');
      if (
        version !== VERSION ||
        iv === undefined ||
        tag === undefined ||
        ciphertext === undefined ||
        rest.length
      ) {
        throw new Error(`Not a sealed secret (expected ${VERSION}:<iv>:<tag>:<ciphertext>)`);
      }
      const ivBytes = decodeBase64(iv);
      const tagBytes = decodeBase64(tag);
      const ciphertextBytes = decodeBase64(ciphertext);
      if (ivBytes?.length !== IV_BYTES || tagBytes?.length !== TAG_BYTES || !ciphertextBytes) {
        throw new Error('Not a sealed secret (bad iv, tag or ciphertext)');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', secretKey, ivBytes, { authTagLength: TAG_BYTES });
        decipher.setAuthTag(tagBytes);
        return Buffer.concat([decipher.update(ciphertextBytes), decipher.final()]).toString('utf8');
      } catch (error) {
        throw new Error(
          'Cannot open a sealed secret: it was sealed with another key (ORGADMIN_SECRET_KEY or secret.key) or altered',
          { cause: error },
        );
      }
    },
  };
}

/** The secret box of this installation: from the given key, or from `<home>/secret.key` (created when missing). */
export function loadSecretBox(options: LoadSecretBoxOptions): SecretBox {
  if (options.key !== undefined) return createSecretBox(keyFromString(options.key));
  return createSecretBox(keyFromFile(join(resolve(options.home), SECRET_KEY_FILE)));
}

/** 32 bytes in base64 are the key itself; anything else is a passphrase stretched with scrypt. */
export function keyFromString(key: string): Buffer {
  if (key.trim() === '') throw new Error('ORGADMIN_SECRET_KEY must not be empty');
  const decoded = decodeBase64(key.trim());
  if (decoded?.length === KEY_BYTES) return decoded;
  return scryptSync(key, SCRYPT_SALT, KEY_BYTES);
}

function keyFromFile(file: string): Buffer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw new Error(`Cannot read the secret key ${file}`, { cause: error });
    text = createKeyFile(file);
  }
  const key = decodeBase64(text.trim());
  if (key?.length !== KEY_BYTES) {
    throw new Error(`The secret key ${file} must hold ${KEY_BYTES} bytes in base64; it does not`);
  }
  return key;
}

/**
 * Writes a new random key. Written aside and linked into place, so no process ever reads a half-written key file;
 * when another process won the race to create it, its key is used.
 */
function createKeyFile(file: string): string {
  mkdirSync(dirname(file), { recursive: true });
  const text = `${randomBytes(KEY_BYTES).toString('base64')}\n`;
  const scratch = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(scratch, text, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(scratch, file);
    return text;
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw new Error(`Cannot create the secret key ${file}`, { cause: error });
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(scratch, { force: true });
  }
}

function decodeBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
