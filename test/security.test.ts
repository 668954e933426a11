/** The development CA: created whole with private keys 0600, reused while sound, replaced when it is not. */
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { createCa, ensureDevCertificates, issueCertificate } from '../src/security/dev-ca.js';
import { tempDir } from './helpers/tmp.js';

const mode = (file: string) => statSync(file).mode & 0o777;

test('created once, with keys only the owner can read, and reused while sound', async (t) => {
  const dataDir = tempDir(t);
  const first = await ensureDevCertificates(dataDir);
  t.true(first.created);
  t.is(mode(join(dataDir, 'tls')), 0o700);
  t.is(mode(first.keyFile), 0o600);
  t.is(mode(join(dataDir, 'tls', 'dev-ca-key.pem')), 0o600);
  const server = new X509Certificate(readFileSync(first.certFile));
  t.true(server.verify(new X509Certificate(readFileSync(first.caFile)).publicKey));
  t.regex(server.subjectAltName ?? '', /DNS:localhost/);
  t.regex(server.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  const again = await ensureDevCertificates(dataDir);
  t.false(again.created);
  t.is(readFileSync(again.certFile, 'utf8'), readFileSync(first.certFile, 'utf8'));
});

test('replaced when files are missing, expired or mismatched; a replaced key never keeps a looser mode', async (t) => {
  const dataDir = tempDir(t);
  const tls = join(dataDir, 'tls');
  // Leftovers with loose modes and no server certificate.
  mkdirSync(tls, { mode: 0o755 });
  chmodSync(tls, 0o755);
  for (const name of ['server-key.pem', 'dev-ca-key.pem']) writeFileSync(join(tls, name), 'old', { mode: 0o644 });
  const made = await ensureDevCertificates(dataDir);
  t.deepEqual([made.created, made.why], [true, 'missing']);
  t.deepEqual([mode(tls), mode(made.keyFile), mode(join(tls, 'dev-ca-key.pem'))], [0o700, 0o600, 0o600]);
  // A server certificate from another CA (a crash between writes leaves such a mix).
  const otherCa = await createCa('other', new Date(Date.now() + 86_400_000 * 30));
  const foreign = await issueCertificate(otherCa, 'localhost', new Date(Date.now() + 86_400_000 * 30), []);
  writeFileSync(made.certFile, foreign.cert);
  t.like(await ensureDevCertificates(dataDir), { created: true, why: 'the server certificate is not signed by the CA' });
  // One about to expire.
  const ca = await createCa('short', new Date(Date.now() + 3_600_000));
  writeFileSync(join(tls, 'dev-ca.pem'), ca.cert);
  t.like(await ensureDevCertificates(dataDir), { created: true, why: 'expired or about to' });
  unlinkSync(made.certFile);
  t.like(await ensureDevCertificates(dataDir), { created: true, why: 'missing' });
  t.false((await ensureDevCertificates(dataDir)).created);
});
