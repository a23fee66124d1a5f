import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';

const PAGE_DIR = new URL('../status-page/', import.meta.url);

/**
 * Only our own script and stylesheet, fetches to this origin, no framing (a page with buttons that act
 * must not be clickjacked) and no inline script: text from dead letters is put in the page as text,
 * and should that ever slip, the browser still refuses to run it.
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const SCRIPT = 'text/javascript; charset=utf-8';
/** The page and its files, each at a fixed path: nothing here maps a URL onto the file system. */
export const STATUS_PAGE_FILES = [
  { url: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { url: '/status-page/status-page.css', file: 'status-page.css', type: 'text/css; charset=utf-8' },
  // ES modules: the entry imports the others (same origin, as the policy allows).
  { url: '/status-page/status-page.js', file: 'status-page.js', type: SCRIPT },
  { url: '/status-page/dom.js', file: 'dom.js', type: SCRIPT },
  { url: '/status-page/status-view.js', file: 'status-view.js', type: SCRIPT },
  { url: '/status-page/dead-letters.js', file: 'dead-letters.js', type: SCRIPT },
] as const;

/** `GET /`: the live status page, static HTML, scripts and a stylesheet shipped in this package. */
export function registerStatusPageRoute(app: FastifyInstance): void {
  for (const { url, file, type } of STATUS_PAGE_FILES) {
    // Read once, at registration: a missing file fails the start, not a visitor's request.
    const body = readFileSync(new URL(file, PAGE_DIR));
    app.get(url, { logLevel: 'warn' }, (_request, reply: FastifyReply) => reply.headers(PAGE_HEADERS).type(type).send(body));
  }
}
