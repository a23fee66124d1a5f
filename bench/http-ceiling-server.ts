import { createServer } from 'node:http';

/*
 * The HTTP ceiling's server (bench/measure-http-ceiling.ts runs it as a process of its own): nothing of
 * Strata, only what any JSON ingest endpoint must do per request on Node.js — read the body, parse it,
 * answer 202 with a count and a token. Prints its port, then serves until killed.
 */
const MAX_BODY = 64 * 1024;

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  let length = 0;
  request.on('data', (chunk: Buffer) => {
    length += chunk.length;
    if (length <= MAX_BODY) chunks.push(chunk);
  });
  request.on('end', () => {
    let id: unknown;
    try {
      id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown }).id;
    } catch {
      response.writeHead(400).end();
      return;
    }
    const body = JSON.stringify({ accepted: 1, token: `ceiling.${String(id)}` });
    response.writeHead(202, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
