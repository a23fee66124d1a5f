import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

/*
 * ANSWER_MEMO_MAX_BYTES is a bound on memory only if what the memo counts for an answer is at least
 * what the answer holds. An answer built by += throughout was a chain of small string pieces, ~2.9
 * times its counted size (hostile review of decision 0103). The fixture fills a memo with answers built
 * as the route builds them, in a process of its own with the collector exposed, and reports how far
 * the heap grew beside what the memo counted.
 */
t.test("the memo counts at least the heap its answers take", async (t) => {
  const fixture = fileURLToPath(new URL('./fixtures/memo-heap.ts', import.meta.url));
  const out = execFileSync(process.execPath, ['--expose-gc', fixture], { encoding: 'utf8' });
  const { answers, counted, grown } = JSON.parse(out) as { answers: number; counted: number; grown: number };
  t.equal(answers, 100, 'every answer kept');
  t.ok(counted > 100 * 100_000, `counted ${counted} bytes for 100 answers of ~100 KB`);
  t.ok(grown <= counted, `the heap grew by ${grown} bytes, within the ${counted} counted`);
});
