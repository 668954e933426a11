/**
 * A local development CA and a server certificate signed by it, created once in the data
 * directory when no certificate is configured, so that a fresh node is TLS-only from its first
 * start. Keys are written with mode 0600. Production deployments configure their own certificates.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

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

export async function ensureDevCertificates(dataDir: string): Promise<DevCertificates> {
  const dir = join(dataDir, 'tls');
  const paths = { caFile: join(dir, 'dev-ca.pem'), caKeyFile: join(dir, 'dev-ca-key.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server-key.pem') };
  if (existsSync(paths.certFile) && existsSync(paths.keyFile) && existsSync(paths.caFile)) {
    return { caFile: paths.caFile, certFile: paths.certFile, keyFile: paths.keyFile, created: false };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
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
  writeFileSync(paths.caKeyFile, ca.private, { mode: 0o600 });
  writeFileSync(paths.caFile, ca.cert, { mode: 0o644 });
  writeFileSync(paths.keyFile, server.private, { mode: 0o600 });
  writeFileSync(paths.certFile, server.cert, { mode: 0o644 });
  return { caFile: paths.caFile, certFile: paths.certFile, keyFile: paths.keyFile, created: true };
}

export function readPem(file: string): Buffer {
  return readFileSync(file);
}
