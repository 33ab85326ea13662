import { BlockList, isIP } from 'node:net';

/**
 * Which addresses an outbound recording fetch may connect to. The URL comes
 * from a webhook payload, so a hostile sender could point it at the metadata
 * service or the VPC; the check runs on the address actually resolved for
 * every hop, not on the host name (DNS rebinding, `127.1`, `[::ffff:10.0.0.1]`).
 */

export type AddressPolicy = 'public-only' | 'allow-loopback';

/** Refused in every mode: the metadata service lives here (169.254.169.254, fd00:ec2::254 is unique-local). */
const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Not public: private, shared, reserved, multicast, unique-local, unspecified, documentation. */
const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24],
  ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['fc00::', 7], ['ff00::', 8], ['2001:db8::', 32], ['64:ff9b:1::', 48], ['100::', 64],
] as const) NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');

/** `::ffff:a.b.c.d` and `::a.b.c.d` are IPv4 addresses in disguise: judge the IPv4 part. */
function unwrapV4(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return { address: mapped[1], family: 'ipv4' };
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hexMapped?.[1] && hexMapped[2]) {
    const hi = parseInt(hexMapped[1], 16);
    const lo = parseInt(hexMapped[2], 16);
    return { address: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, family: 'ipv4' };
  }
  return { address, family: isIP(address) === 4 ? 'ipv4' : 'ipv6' };
}

/** Why an address may not be connected to under a policy, or undefined when it may. */
export function refusalOf(rawAddress: string, policy: AddressPolicy): string | undefined {
  if (isIP(rawAddress) === 0) return 'not an IP address';
  const { address, family } = unwrapV4(rawAddress);
  if (LINK_LOCAL.check(address, family)) return 'link-local address';
  if (LOOPBACK.check(address, family)) return policy === 'allow-loopback' ? undefined : 'loopback address';
  if (NOT_PUBLIC.check(address, family)) return address === '0.0.0.0' || address === '::' ? 'unspecified address' : 'private or reserved address';
  return undefined;
}
