/**
 * The floor for the proxy bench: the least a Node.js proxy can do for a plain chat completion
 * (node:http in, undici out, the body parsed, its model replaced, the answer parsed and sent).
 * No routing, validation, auth, metrics, retries or logs. Measured in the same run as semroute,
 * it shows how much of the proxy's cost is semroute and how much is Node and the machine.
 * Run: `tsx bench/lib/bare-proxy.ts <listen port> <upstream port>`.
 */
import http from 'node:http';
import { Pool } from 'undici';

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 128 });

http
  .createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string };
        const model = body.model;
        body.model = 'm';
        const answer = await pool.request({
          method: 'POST',
          path: '/v1/chat/completions',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
          body: JSON.stringify(body),
        });
        const out = (await answer.body.json()) as { model: string };
        out.model = model;
        const text = JSON.stringify(out);
        res.writeHead(answer.statusCode, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
      } catch (error) {
        res.writeHead(502).end(String(error));
      }
    });
  })
  .listen(port, '127.0.0.1', () => process.stdout.write(`bare proxy listening on ${port}\n`));
