import { connect, type Socket } from 'node:net';

export interface RawHttpRequest {
  socket: Socket;
  /** The answer's head, once it has come (or what came before the connection closed). */
  head: Promise<string>;
  /** Everything the server sent, once it closed the connection. */
  whole: Promise<string>;
}

/**
 * A raw connection to a listening server with `request` written to it: what no HTTP client sends
 * (a body announced and never sent, one aborted half-way, chunks at will). Destroyed at teardown.
 */
export async function rawHttpRequest(teardown: (fn: () => void) => void, port: number, request: string): Promise<RawHttpRequest> {
  const socket = connect({ host: '127.0.0.1', port });
  teardown(() => socket.destroy());
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let text = '';
  const whole = new Promise<string>((resolve) => socket.on('close', () => resolve(text)));
  const head = new Promise<string>((resolve) => {
    socket.on('data', (chunk) => {
      text += chunk.toString();
      if (text.includes('\r\n\r\n')) resolve(text);
    });
    void whole.then(resolve);
  });
  socket.write(request);
  return { socket, head, whole };
}
