import t from 'tap';
import { loadConfig } from './load-config.ts';
import { redactUrl } from './redact-url.ts';

t.test('passwords never reach a message', async (t) => {
  t.equal(redactUrl('postgres://app:s3cret@db:5432/x'), 'postgres://app:***@db:5432/x');
  t.equal(redactUrl('mysql://app:s3cret@db/x'), 'mysql://app:***@db/x');
  t.equal(redactUrl('postgres://app@db/x'), 'postgres://app@db/x', 'no password, nothing to hide');
  t.equal(redactUrl('postgres://:pw@h:bad port/x'), 'postgres://:***@h:bad port/x');
});

t.test('a config error names the variable but not the password', async (t) => {
  const error = (() => {
    try {
      loadConfig({ DATABASE_URL: 'mysql://app:hunter2@db/x', DATABASE_REPLICA_URLS: 'r1=http://u:topsecret@h/x' });
    } catch (caught) {
      return caught as Error;
    }
    return undefined;
  })();
  t.ok(error, 'the configuration is refused');
  t.match(error?.message, /DATABASE_URL/);
  t.match(error?.message, /DATABASE_REPLICA_URLS/);
  t.notMatch(error?.message, /hunter2|topsecret/);
});
