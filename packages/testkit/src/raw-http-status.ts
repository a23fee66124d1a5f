import { connect } from 'node:net';

/**
 * Sends one request exactly as written (request line included, so absolute-form targets such as
 * `POST http://h/v1/events HTTP/1.1` and undecoded paths reach the server untouched) and resolves
 * with the response's status code.
 */
export async function rawHttpStatus(port: number, requestLine: string, headers: Record<string, string> = {}, body = ''): Promise<number> {
  const head = [requestLine, 'Host: 127.0.0.1', 'Connection: close', `Content-Length: ${Buffer.byteLength(body)}`];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      if (match) {
        resolve(Number(match[1]));
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed without a status line: ${JSON.stringify(received.slice(0, 200))}`)));
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.write(`${head.join('\r\n')}\r\n\r\n${body}`);
  });
}
