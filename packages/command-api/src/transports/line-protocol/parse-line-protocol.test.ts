import t from 'tap';
import { isBadLine, parseLineProtocol, type FieldValue, type LineEntry, type LinePoint } from './parse-line-protocol.ts';

/*
 * Cases ported from InfluxDB's own parser tests (influxdata/influxdb models/points_test.go:
 * TestParsePointUnescape, TestParsePointWithStringWithBackslash, TestParsePointMissingTagKey/Value,
 * TestParsePointBadNumber, TestParsePointMaxInt64/MaxUint64, TestParsePointInvalidTimestamp, ...).
 * The published corpus (influxdata/line-protocol-corpus) is checked in parse-line-protocol-corpus.test.ts.
 */

const LIMITS = { maxEntries: 10_000, maxTags: 64, maxFields: 200 };

function parse(text: string): LineEntry[] {
  return parseLineProtocol(text, LIMITS).entries;
}

function point(text: string): Pick<LinePoint, 'measurement' | 'tags' | 'fields' | 'timestamp'> {
  const entries = parse(text);
  if (entries.length !== 1 || isBadLine(entries[0] as LineEntry)) throw new Error(`expected one point from ${JSON.stringify(text)}, got ${JSON.stringify(entries)}`);
  const { measurement, tags, fields, timestamp } = entries[0] as LinePoint;
  return { measurement, tags, fields, timestamp };
}

function reason(text: string): string {
  const entries = parse(text);
  const bad = entries.find(isBadLine);
  if (!bad) throw new Error(`expected a bad line in ${JSON.stringify(text)}, got ${JSON.stringify(entries)}`);
  return bad.reason;
}

const p = (measurement: string, tags: [string, string][], fields: [string, FieldValue][], timestamp?: string) => ({ measurement, tags, fields, timestamp });

t.test('escaping in measurement, tag keys, tag values and field keys (TestParsePointUnescape)', async (t) => {
  t.same(point('foo\\,bar value=1i'), p('foo,bar', [], [['value', 1]]), 'comma in the measurement');
  t.same(point('cpu\\,main,regions=east value=1.0'), p('cpu,main', [['regions', 'east']], [['value', 1]]));
  t.same(point('cpu\\ load,region=east value=1.0'), p('cpu load', [['region', 'east']], [['value', 1]]), 'space in the measurement');
  t.same(point('cpu\\=load,region=east value=1.0'), p('cpu\\=load', [['region', 'east']], [['value', 1]]), '= is not escaped in a measurement: the backslash stays');
  t.same(point('cpu=load,region=east value=1.0'), p('cpu=load', [['region', 'east']], [['value', 1]]), 'a plain = in a measurement');
  t.same(point('cpu,region\\,zone=east value=1.0'), p('cpu', [['region,zone', 'east']], [['value', 1]]), 'comma in a tag key');
  t.same(point('cpu,region\\ zone=east value=1.0'), p('cpu', [['region zone', 'east']], [['value', 1]]), 'space in a tag key');
  t.same(point('cpu,reg\\\\=ion=east value=1.0'), p('cpu', [['reg\\=ion', 'east']], [['value', 1]]), 'a literal backslash, then an escaped =');
  t.same(point('cpu,\\ =east value=1.0'), p('cpu', [[' ', 'east']], [['value', 1]]), 'a tag key of one space');
  t.same(point('cpu,regions=east\\,west value=1.0'), p('cpu', [['regions', 'east,west']], [['value', 1]]), 'comma in a tag value');
  t.same(point('cpu,regions=\\\\ east value=1.0'), p('cpu', [['regions', '\\ east']], [['value', 1]]), 'literal backslash, escaped space');
  t.same(point('cpu,regions=eas\\\\ t value=1.0'), p('cpu', [['regions', 'eas\\ t']], [['value', 1]]));
  t.same(point('cpu,regions=east\\\\  value=1.0'), p('cpu', [['regions', 'east\\ ']], [['value', 1]]), 'literal backslash and escaped trailing space');
  t.same(point('cpu,regions=east\\ west value=1.0'), p('cpu', [['regions', 'east west']], [['value', 1]]), 'space in a tag value');
  t.same(point('cpu,regions=east value\\,ms=1.0'), p('cpu', [['regions', 'east']], [['value,ms', 1]]), 'comma in a field key');
  t.same(point('cpu,regions=east value\\ ms=1.0'), p('cpu', [['regions', 'east']], [['value ms', 1]]), 'space in a field key');
  t.same(point('cpu,regions=east va\\=lue=1.0'), p('cpu', [['regions', 'east']], [['va=lue', 1]]), '= in a field key');
  t.same(point('cpu,regions=eas\\t value=1.0'), p('cpu', [['regions', 'eas\\t']], [['value', 1]]), 'an unknown escape stays as written');
  t.same(point('cpu,regions=\\\\,\\,\\=east value=1.0'), p('cpu', [['regions', '\\,,=east']], [['value', 1]]));
  t.same(point('cpu \\a=1i'), p('cpu', [], [['\\a', 1]]), 'a backslash before an ordinary character in a field key');
  t.same(point('cpu=load,equals\\=foo=tag\\=value value=1i'), p('cpu=load', [['equals=foo', 'tag=value']], [['value', 1]]));
  t.same(point('"cpu",host=serverA value=1.0 1000000000'), p('"cpu"', [['host', 'serverA']], [['value', 1]], '1000000000'), 'quotes in a measurement are characters');
  t.same(point('cpu,"host"="serverA" value=1.0'), p('cpu', [['"host"', '"serverA"']], [['value', 1]]), 'quotes in tags are characters');
  t.same(point('cpu,host=server\\ A\\,B\\=C,ü=温度 w\\ \\,\\==1'), p('cpu', [['host', 'server A,B=C'], ['ü', '温度']], [['w ,=', 1]]), 'every escape at once');
  t.match(reason('m\\ v=1'), /missing fields/, 'an escaped space does not end the measurement');
});

t.test('string fields: \\" and \\\\ escape, other backslashes stay, newlines are content', async (t) => {
  t.same(point('cpu value="test\\\\\\"" 1000000000').fields, [['value', 'test\\"']]);
  t.same(point('cpu value="test\\\\" 1000000000').fields, [['value', 'test\\']]);
  t.same(point('cpu value="test\\"" 1000000000').fields, [['value', 'test"']]);
  t.same(point('cpu str="foo \\" bar"').fields, [['str', 'foo " bar']]);
  t.same(point('cpu value="{Hello\\"{,}\\" World}"').fields, [['value', '{Hello"{,}" World}']]);
  t.same(point('cpu value="{Hello\\"{\\,}\\" World}"').fields, [['value', '{Hello"{\\,}" World}']], '\\, in a string stays');
  t.same(point('cpu str="foo\\\\",str2="bar"').fields, [['str', 'foo\\'], ['str2', 'bar']], 'a string ending in an escaped backslash');
  t.same(point('cpu value="\\n"').fields, [['value', '\\n']], '\\n is two characters, as InfluxDB stores it');
  t.same(point('cpu str="foo=bar",value=1.0').fields, [['str', 'foo=bar'], ['value', 1]]);
  t.same(point('cpu str="a b,c=d e"').fields, [['str', 'a b,c=d e']]);
  t.same(point('cpu value="wè"').fields, [['value', 'wè']]);
  t.same(point('cpu s=""').fields, [['s', '']], 'an empty string');
  const multi = parse('cpu,host=a str="foo\nbar" 1000000000\ncpu,host=b v=1');
  t.same(multi.map((entry) => [entry.line, (entry as LinePoint).endLine]), [[1, 2], [3, 3]], 'a newline inside a string: the next entry starts on line 3');
  t.same((multi[0] as LinePoint).fields, [['str', 'foo\nbar']]);
  t.match(reason('cpu,host=serverA value="test'), /unterminated string/);
});

t.test('every field type', async (t) => {
  t.same(point('cpu t=t,T=T,true=true,True=True,TRUE=TRUE,f=f,F=F,false=false,False=False,FALSE=FALSE').fields, [
    ['t', true], ['T', true], ['true', true], ['True', true], ['TRUE', true],
    ['f', false], ['F', false], ['false', false], ['False', false], ['FALSE', false],
  ]);
  t.match(reason('cpu value=tRuE'), /invalid value/);
  t.match(reason('cpu value=a'), /invalid value/);
  t.same(point('cpu int=10i,neg=-1i,float=11.0,f2=12.1,u=7u,e=6.632243e+06,E=1E4,small=1.0e-4,n=-1.0e-4,dot=1.,lead=.1').fields, [
    ['int', 10], ['neg', -1], ['float', 11], ['f2', 12.1], ['u', 7], ['e', 6632243], ['E', 1e4], ['small', 1e-4], ['n', -1e-4], ['dot', 1], ['lead', 0.1],
  ]);
  t.same(point('cpu value=9223372036854775807i').fields, [['value', 9223372036854775807]], 'max int64 (as the nearest double)');
  t.same(point('cpu value=-9223372036854775808i').fields, [['value', -9223372036854775808]], 'min int64');
  t.same(point('cpu value=0009223372036854775807i').fields, [['value', 9223372036854775807]], 'leading zeros');
  t.same(point('cpu value=18446744073709551615u').fields, [['value', 18446744073709551615]], 'max uint64');
  t.same(point('cpu value=0000u').fields, [['value', 0]]);
  t.same(point('cpu value=9007199254740993i').fields, [['value', 9007199254740992]], 'beyond 2^53: the nearest double (decision 0072)');
  t.match(reason('cpu value=9223372036854775808i'), /out of range/);
  t.match(reason('cpu value=-9223372036854775809i'), /out of range/);
  t.match(reason('cpu value=18446744073709551616u'), /out of range/);
  t.match(reason('cpu value=-123u'), /negative/);
  t.match(reason('cpu value=--1u'), /negative/);
  t.match(reason(`cpu value=1${'0'.repeat(400)}`), /out of the range of a 64-bit float/);
  for (const bad of ['cpu v=- ', 'cpu v=-i ', 'cpu v=-. ', 'cpu v=. ', 'cpu v=1.0i ', 'cpu v=1ii ', 'cpu v=1a ', 'cpu v=-e-e-e ', 'cpu v=42+3 ', 'cpu v= ', 'cpu v=1.1.1', 'cpu v=0.-1', 'cpu v=.1a', 'cpu v=9ie10', 'cpu v=9e10i', 'cpu v=+1']) {
    t.ok(reason(bad), `${JSON.stringify(bad)} is refused`);
  }
  for (const nan of ['cpu value=NaN 1000000000', 'cpu value=nAn 1000000000', 'cpu value=NaN', 'cpu value=Inf', 'cpu value=-Inf', 'cpu value=+Inf', 'cpu value=infinity']) {
    t.match(reason(nan), /NaN and infinities are not numbers|invalid value/, `${nan} is refused`);
  }
});

t.test('tags and fields that are missing or malformed (TestParsePointMissingTagKey/Value, MissingFieldName/Value)', async (t) => {
  for (const text of ['cpu, value=1', 'cpu,', 'cpu,,,', 'cpu,host=serverA,=us-east value=1i', 'cpu,host=serverAa\\,,=us-east value=1i', 'cpu,host=serverA\\,,=us-east value=1i', 'cpu, =serverA value=1i']) {
    t.match(reason(text), /missing tag key/, text);
  }
  t.same(point('cpu,host=serverA,\\ =us-east value=1i').tags, [['host', 'serverA'], [' ', 'us-east']]);
  for (const text of ['cpu,host', 'cpu,host,', 'cpu,host=', 'cpu,host value=1i', 'cpu,host=serverA,region value=1i', 'cpu,host=serverA,region= value=1i', 'cpu,host=serverA,region=,zone=us-west value=1i']) {
    t.match(reason(text), /missing tag value/, text);
  }
  t.match(reason('cpu,host=f=o,'), /unescaped "="/);
  t.match(reason('cpu,host=f\\==o,'), /unescaped "="/);
  for (const text of ['cpu,host=serverA,region=us-west =', 'cpu,host=serverA,region=us-west =123i', 'cpu,host=serverA,region=us-west value=123i,=456i']) {
    t.match(reason(text), /missing field key/, text);
  }
  t.same(point('cpu,host=serverA,region=us-west a\\ =123i').fields, [['a ', 123]]);
  for (const text of ['cpu,host=serverA,region=us-west value=', 'cpu,host=serverA,region=us-west value= 1000000000i', 'cpu,host=serverA,region=us-west value=,value2=1i']) {
    t.match(reason(text), /missing value for field "value"/, text);
  }
  t.match(reason('cpu,host=server01,region=us-west 1434055562000000000i'), /missing "=" after field key/);
  t.match(reason('cpu,host=server01,region=us-west value=1i,b'), /missing "=" after field key "b"/);
  t.match(reason('m f="blah"=123,r 1531703600000000000'), /unexpected character "="/);
  t.match(reason('cpu_load_short,host=server01,region=us-west'), /missing fields/);
  t.match(reason('cpu'), /missing fields/);
  t.match(reason('cpu '), /missing fields/);
  t.match(reason(',host=a v=1'), /missing measurement/);
  t.match(reason('cpu,host=serverA,host=serverB value=1i 1000000000'), /duplicate tag "host"/);
  t.match(reason('cpu,b=2,c=3,b=1 value=1i'), /duplicate tag "b"/);
  t.match(reason('cpu value=1,value=2'), /duplicate field "value"/, 'a duplicate field is refused rather than one value dropped');
});

t.test('timestamps (TestParsePointInvalidTimestamp, Min/MaxTimestamp, negative)', async (t) => {
  t.equal(point('cpu value=1 -1').timestamp, '-1', 'negative is syntax InfluxDB accepts (refused later as before 1970)');
  t.equal(point('cpu value=1 9223372036854775806').timestamp, '9223372036854775806');
  t.equal(point('cpu value=1 -9223372036854775806').timestamp, '-9223372036854775806');
  t.equal(point('cpu value=1.0     1257894000000000000').timestamp, '1257894000000000000');
  t.equal(point('cpu      value=1.0     1257894000000000000   ').timestamp, '1257894000000000000', 'runs of spaces and trailing spaces');
  t.equal(point('cpu value=1').timestamp, undefined);
  t.equal(point('cpu value=1 ').timestamp, undefined, 'a trailing space is not a timestamp');
  for (const text of ['cpu value=1 9223372036854775808', 'cpu value=1 -92233720368547758078', 'cpu value=1 -', 'cpu value=1 -/', 'cpu value=1 -1?', 'cpu value=1 1-', 'cpu value=1 9223372036854775807 12', 'a v=1 0\\', 'cpu value=1 1e9', 'cpu value=1 1.5']) {
    t.ok(reason(text), `${JSON.stringify(text)} is refused`);
  }
  t.match(reason('cpu value=1 9223372036854775807 12'), /after the timestamp/);
});

t.test('lines: blank lines, comments, leading whitespace, CRLF; numbering; every bad line reported', async (t) => {
  const text = '# a comment\n\n   \ncpu,host=a v=1 1\r\n\t  cpu,host=b v=2 2\r\n  # indented comment\ncpu,host=c v=3\r\n';
  const entries = parse(text);
  t.same(entries.map((entry) => [entry.line, (entry as LinePoint).tags?.[0]?.[1], (entry as LinePoint).timestamp]), [[4, 'a', '1'], [5, 'b', '2'], [7, 'c', undefined]]);
  t.equal(parse('cpu v=1\r').length, 1, 'a final CR');
  t.match(reason('cpu v=1\rcpu v=2'), /carriage return/, 'a CR inside a line is not an end of line');
  const mixed = parse('cpu v=1\ncpu v=\nbad\ncpu v=2\ncpu,a= v=1\n');
  t.same(mixed.map((entry) => [entry.line, isBadLine(entry)]), [[1, false], [2, true], [3, true], [4, false], [5, true]], 'reading goes on after a bad line');
  t.same(parse(''), []);
  t.same(parse('\n\n# only comments\n'), []);
});

t.test('limits: entries, tags and fields are bounded while reading', async (t) => {
  const many = Array.from({ length: 11 }, (_, i) => `m v=${i}`).join('\n');
  t.equal(parseLineProtocol(many, { ...LIMITS, maxEntries: 10 }).overLimit, true);
  t.equal(parseLineProtocol(many, { ...LIMITS, maxEntries: 11 }).overLimit, false);
  t.equal(parseLineProtocol(`${many}\n\n# comment\n`, { ...LIMITS, maxEntries: 11 }).overLimit, false, 'blank lines and comments are not entries');
  const tags = Array.from({ length: 65 }, (_, i) => `t${i}=x`).join(',');
  t.match(reason(`m,${tags} v=1`), /more than 64 tags/);
  const fields = Array.from({ length: 201 }, (_, i) => `f${i}=1`).join(',');
  t.match(reason(`m ${fields}`), /more than 200 fields/);
  const huge = `m ${Array.from({ length: 100_000 }, (_, i) => `f${i}=1`).join(',')}`;
  const started = performance.now();
  t.match(reason(huge), /more than 200 fields/, 'a line of 100,000 fields stops at the bound');
  t.ok(performance.now() - started < 1000, 'and quickly');
  const longKey = 'k'.repeat(2_000_000);
  t.match(reason(`m ${longKey}`), /missing "=" after field key "k{64}…"/, 'a 2 MB name is echoed cut short');
});
