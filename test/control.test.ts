/**
 * The control socket and the data directory lock, on a real node: junk on the socket never hurts
 * the node, a second node on the same data directory is refused without touching the first, what
 * a killed node leaves behind (its lock file, its socket file) does not stop the next start, and
 * the client fails clearly when no node answers.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import test from 'ava';
import { controlRequest, controlRequestBytesMax } from '../src/control/index.js';
import { loadConfig } from '../src/config/index.js';
import { startNode } from '../src/main.js';
import { createLogger } from '../src/observability/logger.js';
import { lockDataDir, lockName } from '../src/workers/layout.js';
import { startTestNode } from './helpers/node.js';
import { tempDir } from './helpers/tmp.js';

/** Sends raw bytes on a Unix socket and collects what comes back until the node closes it. */
function raw(path: string, bytes: string, endAfterWrite = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.on('connect', () => (endAfterWrite ? socket.end(bytes) : socket.write(bytes)));
  });
}

/** The lock file's holder: JSON since the host and pid namespace were recorded, a bare pid before. */
const lockOf = (dataDir: string): unknown => JSON.parse(readFileSync(join(dataDir, lockName), 'utf8')) as unknown;

const statusOf = async (path: string) => (await controlRequest(path, { command: 'status' })) as { ok: boolean; status: { pid: number } };

test('junk on the control socket gets an error answer or a closed connection, and the node answers status after it', async (t) => {
  const { dataDir } = await startTestNode(t);
  const socket = join(dataDir, 'tillgate.sock');
  t.is(statSync(socket).mode & 0o777, 0o600);
  // "GET" alone crashed the node with the library this replaced.
  t.is(await raw(socket, 'GET'), '');
  t.like(JSON.parse(await raw(socket, 'GET / HTTP/1.1\r\n\r\n')), { ok: false, error: 'a control request is one JSON object per line' });
  t.like(JSON.parse(await raw(socket, '[1,2]\n')), { ok: false });
  t.like(JSON.parse(await raw(socket, 'null\n')), { ok: false });
  t.regex((JSON.parse(await raw(socket, '{"command":"reboot"}\n')) as { error: string }).error, /unknown control command "reboot"/);
  t.regex((JSON.parse(await raw(socket, 'x'.repeat(controlRequestBytesMax + 10), false)) as { error: string }).error, /at most 4096 bytes/);
  t.is(await raw(socket, '\u0000\uffff\n'), '{"ok":false,"error":"a control request is one JSON object per line"}\n');
  t.like(await statusOf(socket), { ok: true, status: { pid: process.pid } });
});

test('a second node on the same data directory is refused, and the first keeps its control socket', async (t) => {
  const { dataDir, client } = await startTestNode(t);
  const socket = join(dataDir, 'tillgate.sock');
  const config = loadConfig({ flags: { dataDir, 'grpc.host': '127.0.0.1', 'grpc.port': 0, logLevel: 'silent' } });
  const error = await t.throwsAsync(startNode(config, createLogger('silent')));
  t.regex(error?.message ?? '', /already open in this process|in use by process/);
  t.like(await statusOf(socket), { ok: true, status: { pid: process.pid } });
  await client.upsertSku({ sku: 'A', description: 'still serving', returnable: true, returnWindowDays: 0 });
  t.like(lockOf(dataDir), { pid: process.pid, host: hostname() });
});

test('the data directory of a live node elsewhere is refused; once that node is killed with SIGKILL, its lock file and socket file are taken over', async (t) => {
  const dataDir = tempDir(t);
  const socket = join(dataDir, 'tillgate.sock');
  // A child process that holds the lock file and listens on the socket, then dies without cleaning up.
  const child = spawn(process.execPath, ['-e', `
    const fs = require('node:fs'); const net = require('node:net');
    fs.writeFileSync(${JSON.stringify(join(dataDir, lockName))}, process.pid + '\\n');
    net.createServer(() => {}).listen(${JSON.stringify(socket)}, () => process.stdout.write('ready\\n'));
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  t.true(existsSync(socket));
  // While that process lives, the directory is its: refused, and its files are left as they are.
  const config = loadConfig({ flags: { dataDir, 'grpc.host': '127.0.0.1', 'grpc.port': 0, logLevel: 'silent' } });
  const refused = await t.throwsAsync(startNode(config, createLogger('silent')));
  t.regex(refused?.message ?? '', new RegExp(`in use by process ${child.pid ?? -1}`));
  t.is(readFileSync(join(dataDir, lockName), 'utf8').trim(), String(child.pid));
  child.kill('SIGKILL');
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.true(existsSync(socket));
  const { node } = await startTestNode(t, {}, dataDir);
  t.like(await statusOf(socket), { ok: true, status: { pid: process.pid } });
  t.like(lockOf(dataDir), { pid: process.pid, host: hostname() });
  await node.stop('test');
  t.false(existsSync(join(dataDir, lockName)));
});

test('the lock is taken by the directory itself: another spelling of the same path is refused, and its failed open leaves the first lock alone', (t) => {
  const dataDir = tempDir(t);
  const first = lockDataDir(dataDir);
  t.teardown(first);
  const link = join(tempDir(t), 'same-dir');
  symlinkSync(dataDir, link);
  for (const other of [link, `${dataDir}/./`, relative(process.cwd(), dataDir)]) {
    t.throws(() => lockDataDir(other), { message: /already open in this process/ }, other);
  }
  t.like(lockOf(dataDir), { pid: process.pid, host: hostname() });
  // A lock file with no pid yet is a node still writing it: held while young.
  first();
  writeFileSync(join(dataDir, lockName), '');
  t.throws(() => lockDataDir(dataDir), { message: /in use by a process that is starting/ });
});

test('a lock whose holder cannot be checked from here (another host name, pid namespace or boot) is taken over only once its heartbeat has stopped', (t) => {
  const dataDir = tempDir(t);
  const lock = join(dataDir, lockName);
  const write = (holder: object, ageMs: number) => {
    writeFileSync(lock, `${JSON.stringify(holder)}\n`);
    const at = new Date(Date.now() - ageMs);
    utimesSync(lock, at, at);
  };
  // pid 1 is alive in every namespace, and a pid elsewhere says nothing here: only the heartbeat counts.
  const elsewhere = [{ pid: 999_999_999, host: `${hostname()}-other` }, { pid: 1, host: hostname(), pidNamespace: 'pid:[1]' }, { pid: 1, host: hostname(), bootId: 'an-earlier-boot' }];
  for (const holder of elsewhere) {
    write(holder, 5_000);
    t.throws(() => lockDataDir(dataDir), { message: /seen last 5 s ago/ }, JSON.stringify(holder));
    t.like(lockOf(dataDir), holder);
    write(holder, 120_000);
    const release = lockDataDir(dataDir);
    t.like(lockOf(dataDir), { pid: process.pid, host: hostname() });
    release();
  }
  // A holder checkable here and alive is refused however old its file.
  write({ pid: 1, host: hostname() }, 120_000);
  t.throws(() => lockDataDir(dataDir), { message: /in use by process 1 on host/ });
});

test('a control socket path that is not a socket is refused and left alone', async (t) => {
  const dataDir = tempDir(t);
  const path = join(dataDir, 'notes.txt');
  writeFileSync(path, 'keep me');
  const config = loadConfig({ flags: { dataDir, controlSocket: path, 'grpc.host': '127.0.0.1', 'grpc.port': 0, logLevel: 'silent' } });
  const error = await t.throwsAsync(startNode(config, createLogger('silent')));
  t.regex(error?.message ?? '', /exists and is not a socket/);
  t.is(readFileSync(path, 'utf8'), 'keep me');
  // The failed start gave the data directory back.
  t.false(existsSync(join(dataDir, lockName)));
});

test('the client fails clearly, and at once, when no node answers', async (t) => {
  const dataDir = tempDir(t);
  const error = await t.throwsAsync(controlRequest(join(dataDir, 'tillgate.sock'), { command: 'status' }));
  t.regex(error?.message ?? '', /no tillgate node answers on .*tillgate\.sock \(ENOENT\)/);
});
