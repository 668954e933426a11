import test from 'ava';
import { readFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { TillgateError } from '../../src/client/index.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { getDialect } from '../../src/tcp-gateway/codec/index.js';
import { RegisterClient } from '../../src/tcp-gateway/client.js';
import { clientPki } from '../helpers/mtls.js';
import type { ClientIdentity } from '../helpers/mtls.js';
import { startTestNode } from '../helpers/node.js';
import { tempDir } from '../helpers/tmp.js';

/** A node that requires client certificates from the CA of `pki` on both its gRPC and its register port. */
async function mtlsNode(t: Parameters<typeof startTestNode>[0]) {
  const pki = await clientPki(tempDir(t, 'tillgate-pki-'));
  const started = await startTestNode(t, {
    'grpc.clientCaFile': pki.caFile, 'grpc.requireClientCert': true,
    'tcp.port': 0, 'tcp.host': '127.0.0.1', 'tcp.dialect': 'iso87-ascii', 'tcp.clientCaFile': pki.caFile, 'tcp.requireClientCert': true,
  });
  return { ...started, pki };
}

const sku = { sku: 'SKU-MTLS', description: 'mtls', returnable: true, returnWindowDays: 0 };
const quick = { deadlineMs: 3000, attemptsMax: 1 };

test('with grpc.requireClientCert, gRPC calls succeed only with a client certificate from the configured CA', async (t) => {
  const { connect, pki } = await mtlsNode(t);
  const anonymous = await t.throwsAsync(connect(quick).upsertSku(sku), { instanceOf: TillgateError });
  t.is(anonymous.code, status.UNAVAILABLE, 'no client certificate: the handshake is refused');
  const intruder = await t.throwsAsync(connect({ ...quick, certFile: pki.foreign.certFile, keyFile: pki.foreign.keyFile }).upsertSku(sku), { instanceOf: TillgateError });
  t.is(intruder.code, status.UNAVAILABLE, 'a certificate from another CA: refused');
  const trusted = connect({ ...quick, certFile: pki.trusted.certFile, keyFile: pki.trusted.keyFile });
  t.is((await trusted.upsertSku(sku)).sku?.sku, 'SKU-MTLS');
});

test('with tcp.requireClientCert, a register is served only with a client certificate from the configured CA', async (t) => {
  const { node, pki } = await mtlsNode(t);
  const ca = readFileSync(node.caFile ?? '');
  const signOn = { mti: '0800', fields: new Map<number, string>([[7, '1128000001'], [11, '000001'], [41, 'TERM0001'], [70, '001']]) };
  const attempt = async (identity: ClientIdentity | undefined) => {
    const register = await RegisterClient.connect({
      host: '127.0.0.1', port: node.tcpPort ?? 0, dialect: getDialect('iso87-ascii'), responseMsMax: 3000,
      tls: { ca, servername: 'localhost', ...(identity === undefined ? {} : { cert: identity.cert, key: identity.key }) },
    });
    t.teardown(() => register.destroy());
    return (await register.sendIso(signOn)).fields.get(39);
  };
  // TLS 1.3 lets the client finish its side first; the server's refusal then closes the connection.
  await t.throwsAsync(attempt(undefined), undefined, 'no client certificate');
  await t.throwsAsync(attempt(pki.foreign), undefined, 'a certificate from another CA');
  t.is(await attempt(pki.trusted), '00');
});

test('register mutual TLS settings are checked at start', (t) => {
  const base = { dataDir: tempDir(t), 'tcp.port': 0, 'tcp.host': '127.0.0.1' };
  t.throws(() => loadConfig({ flags: { ...base, 'tcp.requireClientCert': true } }), { instanceOf: ConfigError, message: /tcp.requireClientCert needs tcp.clientCaFile/ });
  t.throws(() => loadConfig({ flags: { ...base, 'tcp.clientCaFile': '/x.pem' } }), { instanceOf: ConfigError, message: /authenticates no register/ });
  t.throws(() => loadConfig({ flags: { ...base, 'tcp.tls': false, 'tcp.clientCaFile': '/x.pem', 'tcp.requireClientCert': true } }), { instanceOf: ConfigError, message: /needs tcp.tls/ });
  // Without a register port the gateway is off and its settings are not checked.
  t.notThrows(() => loadConfig({ flags: { dataDir: tempDir(t), 'tcp.requireClientCert': true } }));
});
