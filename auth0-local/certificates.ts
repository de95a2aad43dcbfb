/**
 * The local certificate authority and the server certificate for 127.0.0.1 / localhost.
 *
 * The Auth0 SDK and auth0-deploy-cli only speak `https://${domain}`, so auth0-local must serve TLS that Node trusts
 * with nothing more than `NODE_EXTRA_CA_CERTS=<ca.pem>`. The CA is created once per state folder and kept, so a
 * trusted CA stays trusted across restarts; the server certificate is re-issued when it nears expiry.
 */
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata polyfill first.
import 'reflect-metadata';

import * as x509 from '@peculiar/x509';

export interface TlsMaterial {
  caCertPath: string;
  caCert: string;
  cert: string;
  key: string;
}

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

function toPem(label: string, der: ArrayBuffer): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function fromPem(pem: string): ArrayBuffer {
  const base64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const bytes = Buffer.from(base64, 'base64');
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

async function exportPrivateKey(key: CryptoKey): Promise<string> {
  return toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

async function createCa(dir: string): Promise<void> {
  const keys = await generateKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=orgadmin auth0-local CA, O=orgadmin',
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 3650 * DAY_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  writeFileSync(join(dir, 'ca-key.pem'), await exportPrivateKey(keys.privateKey), { mode: 0o600 });
  writeFileSync(join(dir, 'ca.pem'), cert.toString('pem'));
}

async function createServerCert(dir: string): Promise<void> {
  const caCert = new x509.X509Certificate(readFileSync(join(dir, 'ca.pem'), 'utf8'));
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    fromPem(readFileSync(join(dir, 'ca-key.pem'), 'utf8')),
    KEY_ALGORITHM,
    false,
    ['sign'],
  );
  const keys = await generateKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    subject: 'CN=127.0.0.1',
    issuer: caCert.subject,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 365 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
        { type: 'dns', value: 'localhost' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  writeFileSync(join(dir, 'server-key.pem'), await exportPrivateKey(keys.privateKey), { mode: 0o600 });
  writeFileSync(join(dir, 'server.pem'), cert.toString('pem'));
}

function expiresWithin(certPath: string, ms: number): boolean {
  const cert = new x509.X509Certificate(readFileSync(certPath, 'utf8'));
  return cert.notAfter.getTime() - Date.now() < ms;
}

/** Loads the CA and server certificate from `dir`, creating or renewing them as needed. */
export async function ensureTlsMaterial(dir: string): Promise<TlsMaterial> {
  mkdirSync(dir, { recursive: true });
  const caCertPath = join(dir, 'ca.pem');
  if (
    !existsSync(caCertPath) ||
    !existsSync(join(dir, 'ca-key.pem')) ||
    expiresWithin(caCertPath, 60 * DAY_MS)
  ) {
    await createCa(dir);
    await createServerCert(dir);
  }
  const serverCertPath = join(dir, 'server.pem');
  if (!existsSync(serverCertPath) || expiresWithin(serverCertPath, 30 * DAY_MS)) await createServerCert(dir);
  return {
    caCertPath,
    caCert: readFileSync(caCertPath, 'utf8'),
    cert: readFileSync(serverCertPath, 'utf8'),
    key: readFileSync(join(dir, 'server-key.pem'), 'utf8'),
  };
}
