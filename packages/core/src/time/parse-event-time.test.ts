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
