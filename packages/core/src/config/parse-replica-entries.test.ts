import t from 'tap';
import { parseReplicaEntries } from './parse-replica-entries.ts';

t.test('named and bare entries; bare ones are named host:port', async (t) => {
  const problems: string[] = [];
  t.same(parseReplicaEntries(' r1=postgres://u@10.0.0.2:5433/strata , postgresql://db-b/strata,', problems), [
    { name: 'r1', url: 'postgres://u@10.0.0.2:5433/strata' },
    { name: 'db-b:5432', url: 'postgresql://db-b/strata' },
  ]);
  t.same(problems, []);
  t.same(parseReplicaEntries('', problems), []);
});

t.test('bad URLs and duplicate names are all reported', async (t) => {
  const problems: string[] = [];
  parseReplicaEntries('a=postgres://h/x,a=postgres://h2/x,redis://h:6379,b=nope', problems);
  t.equal(problems.length, 3);
  t.match(problems.join('\n'), /appears twice[\s\S]*postgres: or postgresql:[\s\S]*not a valid URL/);
});
