import type { FastifyRequest } from 'fastify';

const SCHEME = /^(Token|Bearer|Basic)[ \t]+(\S*)[ \t]*$/i;

/**
 * The API key of an InfluxDB-style request, wherever InfluxDB clients put their credential:
 * `Authorization: Token <key>` (InfluxDB 2, Telegraf's `token`), `Bearer <key>`, Basic auth with the
 * key as password and any user name (the `influx` 1.x CLI's `-username x -password <key>`), or the
 * 1.x query parameter `p=<key>`. The header wins over `p`.
 */
export function readInfluxCredential(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined && header !== '') {
    const match = SCHEME.exec(header);
    // An unknown scheme is passed on whole, to be refused as an invalid key rather than as a missing one.
    if (!match) return header;
    const value = match[2] as string;
    return (match[1] as string).toLowerCase() === 'basic' ? basicPassword(value) : value;
  }
  const query = request.query as Record<string, unknown> | undefined;
  const password = query?.p;
  return typeof password === 'string' && password !== '' ? password : undefined;
}

function basicPassword(encoded: string): string {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? '' : decoded.slice(colon + 1);
}
