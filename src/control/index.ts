/**
 * The local control socket (a Unix domain socket in the data directory, via net-ipc): how
 * `tillgate status` reads a running node's live state and `tillgate drain` starts its graceful
 * shutdown, without going through the network. The socket file is created with mode 0600:
 * only the node's own user may drive it.
 */
import { chmodSync } from 'node:fs';
import { Client, Server } from 'net-ipc';

export interface ControlHandlers {
  status(): unknown;
  drain(): void;
}

export type ControlRequest = { command: 'status' } | { command: 'drain' };

export interface ControlServer {
  close(): Promise<void>;
}

export async function startControlServer(path: string, handlers: ControlHandlers): Promise<ControlServer> {
  const server = new Server({ path, max: 16 });
  server.on('request', (request: unknown, respond: (data: unknown) => Promise<void>) => {
    const command = (request as { command?: unknown } | null)?.command;
    let answer: unknown;
    if (command === 'status') answer = { ok: true, status: handlers.status() };
    else if (command === 'drain') {
      answer = { ok: true, draining: true };
      setImmediate(() => handlers.drain());
    } else answer = { ok: false, error: `unknown control command ${String(command)}` };
    respond(answer).catch(() => undefined);
  });
  server.on('error', () => undefined);
  await server.start();
  chmodSync(path, 0o600);
  return { close: async () => { await server.close(); } };
}

/** Sends one control request to a running node; rejects with a clear message when none answers. */
export async function controlRequest(path: string, request: ControlRequest, timeoutMs = 5000): Promise<unknown> {
  const client = new Client({ path, reconnect: false });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`no tillgate node answers on ${path} (${(error as Error).message}); is it running with this data directory?`);
  }
  try {
    return await client.request(request, timeoutMs);
  } finally {
    await client.close().catch(() => undefined);
  }
}
