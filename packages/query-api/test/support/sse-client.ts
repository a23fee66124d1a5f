// A real Server-Sent Events client for the stream tests: Node's built-in EventSource (experimental
// in Node 24, hence run as its own process with --experimental-eventsource). Prints one JSON line
// per connection opened and per `update` event, and exits after `count` updates.
const [url, countText] = process.argv.slice(2);
const count = Number(countText);
let received = 0;
const source = new EventSource(url as string);
// Undici waits out the reconnection delay on an unref'd timer; without this the process would end
// there instead of reconnecting (a browser tab stays open).
const keepAlive = setInterval(() => {}, 1000);
source.addEventListener('open', () => process.stdout.write(`${JSON.stringify({ kind: 'open' })}\n`));
source.addEventListener('update', (event) => {
  const message = event as MessageEvent;
  process.stdout.write(`${JSON.stringify({ kind: 'update', id: message.lastEventId, data: JSON.parse(message.data as string) })}\n`);
  if (++received >= count) {
    source.close();
    clearInterval(keepAlive);
    process.exit(0);
  }
});
