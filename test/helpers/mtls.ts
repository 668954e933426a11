/** Client certificates for mutual-TLS tests: a client CA with one client, and a foreign CA's client. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, issueCertificate } from '../../src/security/dev-ca.js';
import type { Issued } from '../../src/security/dev-ca.js';

export interface ClientIdentity {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

export interface ClientPki {
  /** The CA the node trusts for client certificates. */
  caFile: string;
  /** A client whose certificate that CA signed. */
  trusted: ClientIdentity;
  /** A client whose certificate another CA signed. */
  foreign: ClientIdentity;
}

const tomorrow = () => new Date(Date.now() + 24 * 3600 * 1000);

async function client(dir: string, name: string, ca: Issued): Promise<ClientIdentity> {
  const issued = await issueCertificate(ca, name, tomorrow(), [{ name: 'keyUsage', digitalSignature: true }, { name: 'extKeyUsage', clientAuth: true }]);
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  writeFileSync(certFile, issued.cert);
  writeFileSync(keyFile, issued.private, { mode: 0o600 });
  return { certFile, keyFile, cert: Buffer.from(issued.cert), key: Buffer.from(issued.private) };
}

export async function clientPki(dir: string): Promise<ClientPki> {
  const ca = await createCa('tillgate test client CA', tomorrow());
  const other = await createCa('some other CA', tomorrow());
  const caFile = join(dir, 'client-ca.pem');
  writeFileSync(caFile, ca.cert);
  return { caFile, trusted: await client(dir, 'register-1', ca), foreign: await client(dir, 'intruder', other) };
}
