/** The /metrics endpoint of a real node: scrapes work, other methods do not, and no client keeps the node from stopping. */
import { connect } from 'node:net';
import test from 'ava';
import { startTestNode } from '../helpers/node.js';

test('/metrics answers GET and HEAD, refuses other methods, and a half-sent request does not hold the node open at stop', async (t) => {
  const { node } = await startTestNode(t, { 'metrics.port': 0, 'metrics.host': '127.0.0.1' });
  const base = `http://127.0.0.1:${node.metricsPort ?? 0}`;
  const scrape = await fetch(`${base}/metrics`);
  t.is(scrape.status, 200);
  t.regex(await scrape.text(), /tillgate_commands_total/);
  t.is((await fetch(`${base}/metrics`, { method: 'HEAD' })).status, 200);
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const refused = await fetch(`${base}/metrics`, method === 'DELETE' ? { method } : { method, body: 'x' });
    t.is(refused.status, 405, method);
    t.is(refused.headers.get('allow'), 'GET, HEAD');
  }
  t.is((await fetch(`${base}/other`)).status, 404);
  // A client that starts a request and never finishes it.
  const stalled = connect({ host: '127.0.0.1', port: node.metricsPort ?? 0 });
  await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
  stalled.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
  stalled.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
  const startedMs = Date.now();
  await node.stop('test');
  await closed;
  t.true(Date.now() - startedMs < 5000, `stop took ${Date.now() - startedMs} ms`);
});
