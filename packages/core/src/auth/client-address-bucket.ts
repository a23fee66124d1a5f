import { isIPv4, isIPv6 } from 'node:net';

/**
 * What failed authentications are counted against: an IPv4 address, or an IPv6 /64 (one subscriber
 * usually holds a whole /64, so counting single IPv6 addresses would let one client rotate through
 * 2^64 of them). IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
export function clientAddressBucket(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return 'unknown';
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
