import { decodeToken } from '@strata/core';
import type pg from 'pg';

export interface Answer {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test code reads arbitrary JSON answers
}

/** A minimal HTTP client for the tests: JSON in, JSON out, bearer key attached. */
export function apiClient(baseUrl: string, apiKey: string) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const response = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
  return {
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
  };
}

/** Resolves once the batch a token names is projected (its applied_batches row is committed). */
export async function waitForToken(db: pg.Pool, token: string, timeoutMs = 15_000): Promise<void> {
  const batchId = decodeToken(token);
  if (!batchId) throw new Error(`not a token: ${token}`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await db.query('SELECT 1 FROM applied_batches WHERE batch_id = $1', [batchId]);
    if (found.rowCount) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`batch ${batchId} not applied within ${timeoutMs} ms`);
}
