import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { AppError, badRequest } from '@strata/core';

const gunzipAsync = promisify(gunzip);

/**
 * The body as sent before any Content-Encoding: gzip (Telegraf's default) is undone, bounded to
 * `maxBytes` of output. zlib stops as soon as the output passes the bound, so a zip bomb (5 MB that
 * inflate to gigabytes) costs at most `maxBytes` of memory and is answered 413.
 */
export async function decompressBody(raw: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return raw;
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new AppError(415, 'unsupported_media_type', `Content-Encoding ${JSON.stringify(encoding.slice(0, 64))} is not supported: send gzip or no encoding`);
  }
  try {
    return await gunzipAsync(raw, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new AppError(413, 'too_large', `the body is larger than ${maxBytes} bytes once decompressed (MAX_BODY_BYTES)`);
    }
    throw badRequest('body is not valid gzip', [{ field: 'body', reason: (error as Error).message }]);
  }
}
