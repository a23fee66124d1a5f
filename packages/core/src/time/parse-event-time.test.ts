import t from 'tap';
import { parseEventTime } from './parse-event-time.ts';

t.test('RFC 3339 strings need an offset', async (t) => {
  t.same(parseEventTime('2026-11-20T12:00:00Z'), { ms: Date.UTC(2026, 10, 20, 12) });
  t.same(parseEventTime('2026-11-20T13:00:00+01:00'), { ms: Date.UTC(2026, 10, 20, 12) });
  t.ok('reason' in parseEventTime('2026-11-20T12:00:00'), 'no offset is refused');
  t.ok('reason' in parseEventTime('2026-11-20'), 'date only is refused');
});

t.test('numbers are Unix seconds below 1e11, else milliseconds', async (t) => {
  t.same(parseEventTime(1750240800), { ms: 1750240800000 });
  t.same(parseEventTime(1750240800123), { ms: 1750240800123 });
  t.same(parseEventTime(1750240800.5), { ms: 1750240800500 });
  t.ok('reason' in parseEventTime(Number.NaN));
  t.ok('reason' in parseEventTime(-5e15), 'before 1970 is refused');
  t.ok('reason' in parseEventTime(true));
});

t.test('a date-time must name a real calendar day and time (Date.parse would roll it over)', async (t) => {
  const reason = (text: string) => {
    const parsed = parseEventTime(text);
    return 'reason' in parsed ? parsed.reason : undefined;
  };
  t.match(reason('2026-11-31T12:00:00Z'), /no such day/, 'November 31st');
  t.match(reason('2026-02-29T12:00:00Z'), /no such day/, 'February 29th of a common year');
  t.match(reason('2026-04-31T00:00:00Z'), /no such day/);
  t.match(reason('2026-00-10T00:00:00Z'), /no such month/);
  t.match(reason('2026-13-10T00:00:00Z'), /no such month/);
  t.match(reason('2026-11-00T00:00:00Z'), /no such day/);
  t.match(reason('2026-11-20T24:00:00Z'), /time of day/);
  t.match(reason('2026-11-20T12:60:00Z'), /time of day/);
  t.match(reason('2026-11-20T12:00:60Z'), /leap seconds/);
  t.match(reason('2026-11-20T12:00:00+24:00'), /offset/);
  t.match(reason('2026-11-20T12:00:00+01:60'), /offset/);
  t.same(parseEventTime('2028-02-29T12:00:00Z'), { ms: Date.UTC(2028, 1, 29, 12) }, 'a leap year has February 29th');
  t.same(parseEventTime('2000-02-29T00:00:00Z'), { ms: Date.UTC(2000, 1, 29) }, '2000 is a leap year');
  t.ok('reason' in parseEventTime('2100-02-29T00:00:00Z'), '2100 is not');
  t.same(parseEventTime('2026-11-30T23:59:59.999999999-00:30'), { ms: Date.UTC(2026, 11, 1, 0, 29, 59, 999) }, 'fractions truncate to ms');
  t.same(parseEventTime('2026-11-20t12:00:00.5z'), { ms: Date.UTC(2026, 10, 20, 12, 0, 0, 500) }, 'lower-case t and z');
  t.same(parseEventTime('2026-11-20 12:00:00.05+00:00'), { ms: Date.UTC(2026, 10, 20, 12, 0, 0, 50) }, 'space separator');
});
