import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createSecretBox, keyFromString, loadSecretBox, SECRET_KEY_FILE } from './secret-box.js';

const folders: string[] = [];

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function home(): string {
  const folder = mkdtempSync(join(tmpdir(), 'orgadmin-secret-box-'));
  folders.push(folder);
  return folder;
}

describe('secret box', () => {
  const box = createSecretBox(randomBytes(32));

  it('seals into the versioned format and opens it again', () => {
    const sealed = box.seal('s3cr3t – ünïcode');
    expect(sealed).toMatch(/^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]*$/);
    expect(sealed).not.toContain('s3cr3t');
    expect(box.open(sealed)).toBe('s3cr3t – ünïcode');
    expect(box.open(box.seal(''))).toBe('');
  });

  it('uses a fresh IV for every value', () => {
    expect(box.seal('same')).not.toBe(box.seal('same'));
  });

  it('refuses altered values, other keys and other formats', () => {
    const sealed = box.seal('secret');
    const [version, iv, tag, ciphertext] = sealed.split(':') as [string, string, string, string];
    const flipped = Buffer.from(ciphertext, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => box.open([version, iv, tag, flipped.toString('base64')].join(':'))).toThrow(
      /another key .* or altered/,
    );
    expect(() => createSecretBox(randomBytes(32)).open(sealed)).toThrow(/another key/);
    expect(() => box.open('v2:a:b:c')).toThrow(/Not a sealed secret/);
    expect(() => box.open(`v1:${iv}:${tag}`)).toThrow(/Not a sealed secret/);
    expect(() => createSecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });

  it('uses a base64 32-byte key as it is and derives one from any other string', () => {
    const raw = randomBytes(32);
    expect(keyFromString(raw.toString('base64')).equals(raw)).toBe(true);
    const derived = keyFromString('correct horse battery staple');
    expect(derived).toHaveLength(32);
    expect(keyFromString('correct horse battery staple').equals(derived)).toBe(true);
    expect(keyFromString('another passphrase').equals(derived)).toBe(false);
    expect(() => keyFromString('  ')).toThrow(/must not be empty/);

    const sealed = loadSecretBox({ key: 'correct horse battery staple', home: home() }).seal('x');
    expect(loadSecretBox({ key: 'correct horse battery staple', home: home() }).open(sealed)).toBe('x');
  });

  it('generates <home>/secret.key (0600) when no key is given, and reuses it', () => {
    const folder = join(home(), 'nested');
    const sealed = loadSecretBox({ home: folder }).seal('kept');
    const file = join(folder, SECRET_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    expect(loadSecretBox({ home: folder }).open(sealed)).toBe('kept');
  });

  it('refuses a key file that does not hold 32 bytes', () => {
    const folder = home();
    writeFileSync(join(folder, SECRET_KEY_FILE), 'too short\n');
    expect(() => loadSecretBox({ home: folder })).toThrow(/must hold 32 bytes in base64/);
  });
});
