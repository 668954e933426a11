/** TLS files are parsed at start: a bad certificate, CA bundle or key is a ConfigError naming the setting and the file. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { ConfigError, loadConfig } from '../src/config/index.js';
import { startNode } from '../src/main.js';
import { createLogger } from '../src/observability/logger.js';
import { createCa, issueCertificate } from '../src/security/dev-ca.js';
import { readCertificates, readKeyPair, readPrivateKey } from '../src/security/tls-files.js';
import { tempDir } from './helpers/tmp.js';

const tomorrow = () => new Date(Date.now() + 24 * 3600 * 1000);

/** A CA, a server certificate it signed with its key, and a second server's key, as files in a temp dir. */
async function pki(t: ExecutionContext) {
  const dir = tempDir(t);
  const ca = await createCa('tillgate test CA', tomorrow());
  const server = await issueCertificate(ca, 'localhost', tomorrow(), [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }]);
  const other = await issueCertificate(ca, 'other', tomorrow(), []);
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  return {
    dir, file, ca: ca.cert,
    caFile: file('ca.pem', ca.cert), certFile: file('server.pem', server.cert), keyFile: file('server-key.pem', server.private),
    otherKeyFile: file('other-key.pem', other.private), otherCert: other.cert,
  };
}

const refused = (message: RegExp) => ({ instanceOf: ConfigError, message });
const escaped = (path: string) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('good certificates, bundles and keys are read as they are', async (t) => {
  const files = await pki(t);
  const pair = readKeyPair({ certSetting: 'grpc.certFile', certFile: files.certFile, keySetting: 'grpc.keyFile', keyFile: files.keyFile });
  t.true(pair.cert.toString().startsWith('-----BEGIN CERTIFICATE-----'));
  t.truthy(readPrivateKey('grpc.keyFile', files.keyFile).length);
  // A bundle of two, with openssl's text between the blocks, as OpenSSL accepts it.
  const bundle = files.file('bundle.pem', `subject=CN = tillgate test CA\n${files.ca}\nsubject=CN = other\n${files.otherCert}`);
  t.is(readCertificates('grpc.clientCaFile', bundle).toString().match(/BEGIN CERTIFICATE/g)?.length, 2);
});

test('a client CA that is not a certificate is refused by setting and path, whatever is wrong with it', async (t) => {
  const files = await pki(t);
  const garbage = files.file('garbage.pem', 'this is not a certificate\n');
  t.throws(() => readCertificates('grpc.clientCaFile', garbage), refused(new RegExp(`^grpc\\.clientCaFile ${escaped(garbage)} holds no PEM certificate`)));
  const corrupt = files.file('corrupt.pem', `${files.ca}-----BEGIN CERTIFICATE-----\nTUlJQm5vdCBhIGNlcnQ=\n-----END CERTIFICATE-----\n`);
  t.throws(() => readCertificates('tcp.clientCaFile', corrupt), refused(new RegExp(`^tcp\\.clientCaFile ${escaped(corrupt)}: certificate 2 of 2 does not parse`)));
  const truncated = files.file('truncated.pem', `${files.ca}${files.ca.slice(0, 200)}`);
  t.throws(() => readCertificates('grpc.clientCaFile', truncated), refused(new RegExp(`${escaped(truncated)} holds a certificate that begins and never ends`)));
  const key = files.file('key-as-ca.pem', readPrivateKey('grpc.keyFile', files.keyFile).toString());
  t.throws(() => readCertificates('grpc.clientCaFile', key), refused(/holds no PEM certificate/));
  const missing = join(files.dir, 'missing.pem');
  t.throws(() => readCertificates('grpc.clientCaFile', missing), refused(new RegExp(`^grpc\\.clientCaFile ${escaped(missing)} cannot be read: ENOENT`)));
});

test('a bad key, or a key that is not the certificate\'s, is refused naming both files', async (t) => {
  const files = await pki(t);
  const names = { certSetting: 'grpc.certFile', keySetting: 'grpc.keyFile' };
  const notKey = files.file('not-key.pem', 'nothing here\n');
  t.throws(() => readKeyPair({ ...names, certFile: files.certFile, keyFile: notKey }), refused(new RegExp(`^grpc\\.keyFile ${escaped(notKey)} is not a usable PEM private key`)));
  t.throws(() => readKeyPair({ ...names, certFile: files.keyFile, keyFile: files.keyFile }), refused(new RegExp(`^grpc\\.certFile ${escaped(files.keyFile)} holds no PEM certificate`)));
  t.throws(
    () => readKeyPair({ ...names, certFile: files.certFile, keyFile: files.otherKeyFile }),
    refused(new RegExp(`^grpc\\.keyFile ${escaped(files.otherKeyFile)} does not match grpc\\.certFile ${escaped(files.certFile)}`)),
  );
});

test('a node with an unparsable client CA or certificate does not start: it names the setting and the file', async (t) => {
  const files = await pki(t);
  const garbage = files.file('garbage.pem', 'not a CA\n');
  const start = async (flags: Record<string, unknown>) => {
    const node = await startNode(loadConfig({
      flags: { dataDir: tempDir(t), 'grpc.host': '127.0.0.1', 'grpc.port': 0, engine: 'inline', shards: 1, logLevel: 'silent', 'grpc.certFile': files.certFile, 'grpc.keyFile': files.keyFile, ...flags },
    }), createLogger('silent'));
    // A node that started anyway is stopped, so the test fails instead of hanging.
    await node.stop('started with a bad TLS file');
    return node.config;
  };
  await t.throwsAsync(start({ 'grpc.clientCaFile': garbage, 'grpc.requireClientCert': true }), refused(new RegExp(`^grpc\\.clientCaFile ${escaped(garbage)} holds no PEM certificate`)));
  await t.throwsAsync(start({ 'grpc.certFile': garbage }), refused(new RegExp(`^grpc\\.certFile ${escaped(garbage)} holds no PEM certificate`)));
  await t.throwsAsync(
    start({ 'tcp.port': 0, 'tcp.host': '127.0.0.1', 'tcp.clientCaFile': garbage, 'tcp.requireClientCert': true }),
    refused(new RegExp(`^tcp\\.clientCaFile ${escaped(garbage)} holds no PEM certificate`)),
  );
});
