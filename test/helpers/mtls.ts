/** Client certificates for mutual-TLS tests: a client CA with one client, and a foreign CA's client. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

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

const validity = () => ({ notBeforeDate: new Date(Date.now() - 60_000), notAfterDate: new Date(Date.now() + 24 * 3600 * 1000) });

async function authority(name: string): Promise<{ cert: string; private: string }> {
  return generate([{ name: 'commonName', value: name }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256', ...validity(),
    extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }],
  });
}

async function client(dir: string, name: string, ca: { cert: string; private: string }): Promise<ClientIdentity> {
  const issued = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256', ...validity(), ca: { key: ca.private, cert: ca.cert },
    extensions: [{ name: 'basicConstraints', cA: false }, { name: 'keyUsage', digitalSignature: true }, { name: 'extKeyUsage', clientAuth: true }],
  });
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  writeFileSync(certFile, issued.cert);
  writeFileSync(keyFile, issued.private, { mode: 0o600 });
  return { certFile, keyFile, cert: Buffer.from(issued.cert), key: Buffer.from(issued.private) };
}

export async function clientPki(dir: string): Promise<ClientPki> {
  const ca = await authority('tillgate test client CA');
  const other = await authority('some other CA');
  const caFile = join(dir, 'client-ca.pem');
  writeFileSync(caFile, ca.cert);
  return { caFile, trusted: await client(dir, 'register-1', ca), foreign: await client(dir, 'intruder', other) };
}
