/**
 * SHA-256 for the domain layer, which may not import `node:crypto` (it stays free of platform modules so it runs
 * anywhere, the portal's browser bundle included). `@noble/hashes` is audited, dependency-free and pure JS. Used for
 * short deterministic name suffixes and plan fingerprints, not for secrets.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}
