import { describe, it, expect } from 'vitest';
import { refusalOf } from '../../functions/recordings/address.ts';

describe('refusalOf: which connected addresses a recording fetch may use', () => {
  it('lets public addresses through in both modes', () => {
    for (const a of ['8.8.8.8', '52.94.236.248', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect(refusalOf(a, 'public-only'), a).toBeUndefined();
      expect(refusalOf(a, 'allow-loopback'), a).toBeUndefined();
    }
  });

  it('refuses link-local (the metadata address included) in every mode', () => {
    for (const a of ['169.254.169.254', '169.254.0.1', 'fe80::1', 'febf::1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe']) {
      expect(refusalOf(a, 'public-only'), a).toBe('link-local address');
      expect(refusalOf(a, 'allow-loopback'), a).toBe('link-local address');
    }
  });

  it('refuses loopback when deployed, allows it locally', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
      expect(refusalOf(a, 'public-only'), a).toBe('loopback address');
      expect(refusalOf(a, 'allow-loopback'), a).toBeUndefined();
    }
  });

  it('refuses private, shared, unique-local, multicast and reserved addresses in both modes', () => {
    for (const a of ['10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '100.64.0.1', 'fc00::1', 'fd00:ec2::254', 'ff02::1', '224.0.0.1', '240.0.0.1', '::ffff:10.0.0.1', '198.18.0.1']) {
      expect(refusalOf(a, 'public-only'), a).toBe('private or reserved address');
      expect(refusalOf(a, 'allow-loopback'), a).toBe('private or reserved address');
    }
    expect(refusalOf('172.32.0.1', 'public-only')).toBeUndefined();
  });

  it('refuses the unspecified addresses and anything that is not an IP', () => {
    expect(refusalOf('0.0.0.0', 'allow-loopback')).toBe('unspecified address');
    expect(refusalOf('::', 'allow-loopback')).toBe('unspecified address');
    expect(refusalOf('example.com', 'allow-loopback')).toBe('not an IP address');
  });
});
