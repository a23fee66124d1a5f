import t from 'tap';
import { clientAddressBucket } from './client-address-bucket.ts';

t.test('IPv4 counts per address, IPv6 per /64, mapped IPv4 as IPv4', async (t) => {
  t.equal(clientAddressBucket('203.0.113.7'), '203.0.113.7');
  t.equal(clientAddressBucket('::ffff:203.0.113.7'), '203.0.113.7');
  t.equal(clientAddressBucket('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
  t.equal(clientAddressBucket('2001:db8:1:2::1'), '2001:db8:1:2::/64', 'same /64, same bucket');
  t.equal(clientAddressBucket('2001:0db8::1'), '2001:db8:0:0::/64', 'zero groups filled in');
  t.equal(clientAddressBucket('::1'), '0:0:0:0::/64');
  t.equal(clientAddressBucket(undefined), 'unknown');
  t.equal(clientAddressBucket('not an address'), 'unknown');
});
