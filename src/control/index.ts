/**
 * The local control socket (a Unix domain socket, by default in the data directory): how
 * `tillgate status` reads a running node's live state and `tillgate drain` starts its graceful
 * shutdown, without going through the network. The socket is created with mode 0600: only the
 * node's own user may drive it.
 *
 * The protocol is one JSON object per line: a connection sends one request line and gets one
 * answer line, then the node closes it. A request is at most controlRequestBytesMax bytes and
 * must arrive within controlRequestMsMax; anything else (not JSON, not an object, an unknown
 * command, too long, too slow) gets an error answer or a closed connection, never an exception in
 * the node.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';

export interface ControlHandlers {
  status(): unknown;
  drain(): void;
}

export type ControlRequest = { command: 'status' } | { command: 'drain' };

export interface ControlServer {
  close(): Promise<void>;
}

export const controlRequestBytesMax = 4096;
export const controlRequestMsMax = 5000;
const connectionsMax = 16;
/** sun_path holds 108 bytes on Linux, its terminating NUL included. */
const socketPathBytesMax = 107;

export class ControlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControlError';
  }
}

function answerFor(line: string, handlers: ControlHandlers): unknown {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    return { ok: false, error: 'a control request is one JSON object per line' };
  }
  const command = typeof request === 'object' && request !== null ? (request as { command?: unknown }).command : undefined;
  if (command === 'status') return { ok: true, status: handlers.status() };
  if (command === 'drain') {
    setImmediate(() => handlers.drain());
    return { ok: true, draining: true };
  }
  return { ok: false, error: `unknown control command ${typeof command === 'string' ? JSON.stringify(command.slice(0, 32)) : typeof command}; known: status, drain` };
}

function serve(socket: Socket, handlers: ControlHandlers): void {
  const chunks: Buffer[] = [];
  let receivedBytes = 0;
  let answered = false;
  // One deadline for the whole request, not an idle timer that a byte now and then would reset.
  const deadline = setTimeout(() => socket.destroy(), controlRequestMsMax);
  socket.on('close', () => clearTimeout(deadline));
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    if (answered) return;
    const end = chunk.indexOf(0x0a);
    chunks.push(end < 0 ? chunk : chunk.subarray(0, end));
    receivedBytes += end < 0 ? chunk.length : end;
    if (end < 0 && receivedBytes <= controlRequestBytesMax) return;
    answered = true;
    let answer: unknown;
    try {
      answer = receivedBytes > controlRequestBytesMax ? { ok: false, error: `a control request is at most ${controlRequestBytesMax} bytes` } : answerFor(Buffer.concat(chunks).toString('utf8'), handlers);
    } catch (error) {
      answer = { ok: false, error: `the node could not answer: ${error instanceof Error ? error.message : String(error)}` };
    }
    socket.end(`${JSON.stringify(answer)}\n`);
  });
}

/**
 * Whether `path` is a socket some process still listens on. Only a refused connection (nothing
 * listens: a node that was killed) counts as no; anything else (a node too busy to accept at once,
 * no answer within the probe's time) counts as yes, so a live node's socket is never replaced.
 */
function listenedOn(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    const settle = (live: boolean): void => {
      probe.destroy();
      resolve(live);
    };
    probe.setTimeout(2000, () => settle(true));
    probe.once('connect', () => settle(true));
    probe.once('error', (error: NodeJS.ErrnoException) => settle(error.code !== 'ECONNREFUSED'));
  });
}

/**
 * Listens on `path`. A socket file there that no node answers on is left over from a killed node
 * and is replaced; a live one, or a path that is not a socket, is refused: a second node must not
 * take over the first one's control socket (and the data directory lock stops it before this).
 */
export async function startControlServer(path: string, handlers: ControlHandlers): Promise<ControlServer> {
  if (Buffer.byteLength(path) > socketPathBytesMax) {
    throw new ControlError(`control socket path ${path} is ${Buffer.byteLength(path)} bytes; a Unix socket path holds at most ${socketPathBytesMax}: choose a shorter controlSocket`);
  }
  let existing: ReturnType<typeof lstatSync> | undefined;
  try {
    existing = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (existing !== undefined) {
    if (!existing.isSocket()) throw new ControlError(`control socket path ${path} exists and is not a socket; refusing to replace it`);
    if (await listenedOn(path)) throw new ControlError(`another process listens on the control socket ${path} (or it could not be told apart from one); refusing to replace it`);
    unlinkSync(path);
  }
  const server = createServer((socket) => serve(socket, handlers));
  server.maxConnections = connectionsMax;
  server.on('error', () => undefined);
  // The socket file is created with the process umask: restrict it for the bind, so it is never
  // reachable by other users, not even for an instant. listen() binds a Unix socket before it
  // returns, so the umask is restored at once, before anything else in the process can run.
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const umask = process.umask(0o177);
  try {
    server.listen(path);
  } finally {
    process.umask(umask);
  }
  await listening;
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

/** Sends one control request to a running node; rejects with a clear message when none answers. */
export function controlRequest(path: string, request: ControlRequest, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let received = '';
    const fail = (message: string): void => {
      socket.destroy();
      reject(new ControlError(message));
    };
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => fail(`no answer on the control socket ${path} within ${timeoutMs} ms`));
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      fail(`no tillgate node answers on ${path} (${error.code ?? error.message}); is it running with this data directory?`);
    });
    socket.on('data', (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\n');
      if (end < 0) {
        if (received.length > 16 * 1024 * 1024) fail(`the answer on ${path} is too long`);
        return;
      }
      socket.destroy();
      try {
        resolve(JSON.parse(received.slice(0, end)));
      } catch {
        reject(new ControlError(`the answer on ${path} is not JSON`));
      }
    });
    socket.on('close', () => {
      if (!received.includes('\n')) fail(`the control socket ${path} closed without an answer`);
    });
  });
}
