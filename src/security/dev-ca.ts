/**
 * A local development CA and a server certificate signed by it, created once in the data
 * directory when no certificate is configured, so that a fresh node is TLS-only from its first
 * start, and again when they are missing, about to expire, or no longer match. Keys are written with
 * mode 0600. Production deployments configure their own certificates.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { replaceFileSynced } from '../files.js';

export interface DevCertificates {
  caFile: string;
  certFile: string;
  keyFile: string;
  created: boolean;
}

const validityDays = 825;

function notAfter(): Date {
  return new Date(Date.now() + validityDays * 24 * 3600 * 1000);
}

/** A key pair and certificate, PEM. */
export interface Issued {
  cert: string;
  private: string;
}

/** selfsigned's certificate extension (its type is not exported). */
export type Extension = NonNullable<NonNullable<Parameters<typeof generate>[1]>['extensions']>[number];

/** EC P-256 / SHA-256, valid from a minute ago (clock skew) until `notAfterDate`. */
function certificate(commonName: string, notAfterDate: Date, extensions: Extension[], ca?: Issued): Promise<Issued> {
  return generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notBeforeDate: new Date(Date.now() - 60_000), notAfterDate,
    ...(ca === undefined ? {} : { ca: { key: ca.private, cert: ca.cert } }),
    extensions,
  });
}

/** A self-signed certificate authority. */
export function createCa(commonName: string, notAfterDate: Date): Promise<Issued> {
  return certificate(commonName, notAfterDate, [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
}

/** A leaf certificate signed by `ca`; `extensions` come after basicConstraints (not a CA). */
export function issueCertificate(ca: Issued, commonName: string, notAfterDate: Date, extensions: Extension[]): Promise<Issued> {
  return certificate(commonName, notAfterDate, [{ name: 'basicConstraints', cA: false }, ...extensions], ca);
}

/** Why the development certificates on disk cannot serve (missing, expiring, mismatched), or undefined when they can. */
function unusable(paths: { caFile: string; certFile: string; keyFile: string }): string | undefined {
  if (![paths.caFile, paths.certFile, paths.keyFile].every((file) => existsSync(file))) return 'missing';
  try {
    const ca = new X509Certificate(readFileSync(paths.caFile));
    const server = new X509Certificate(readFileSync(paths.certFile));
    const renewBeforeMs = Date.now() + 24 * 3600 * 1000;
    if (Date.parse(ca.validTo) < renewBeforeMs || Date.parse(server.validTo) < renewBeforeMs) return 'expired or about to';
    if (!server.verify(ca.publicKey)) return 'the server certificate is not signed by the CA';
    if (!server.checkPrivateKey(createPrivateKey(readFileSync(paths.keyFile)))) return 'the key does not match the certificate';
    return undefined;
  } catch (error) {
    return `unreadable (${error instanceof Error ? error.message : String(error)})`;
  }
}

export async function ensureDevCertificates(dataDir: string): Promise<DevCertificates & { why?: string }> {
  const dir = join(dataDir, 'tls');
  const paths = { caFile: join(dir, 'dev-ca.pem'), caKeyFile: join(dir, 'dev-ca-key.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server-key.pem') };
  const why = unusable(paths);
  if (why === undefined) return { caFile: paths.caFile, certFile: paths.certFile, keyFile: paths.keyFile, created: false };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const ca = await createCa('tillgate development CA', notAfter());
  const server = await issueCertificate(ca, 'localhost', notAfter(), [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 2, value: hostname() },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
  ]);
  replaceFileSynced(paths.caKeyFile, ca.private, 0o600);
  replaceFileSynced(paths.keyFile, server.private, 0o600);
  replaceFileSynced(paths.caFile, ca.cert, 0o644);
  replaceFileSynced(paths.certFile, server.cert, 0o644);
  return { caFile: paths.caFile, certFile: paths.certFile, keyFile: paths.keyFile, created: true, why };
}

export function readPem(file: string): Buffer {
  return readFileSync(file);
}
