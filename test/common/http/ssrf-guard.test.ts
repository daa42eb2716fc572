import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { classifyAddress, createSsrfGuard, type Resolver } from '../../../common/http/ssrf-guard.ts';
import { HttpError, SsrfError } from '../../../common/http/errors.ts';

/** Resolves names from a table; no test here touches DNS or the network. */
function table(entries: Record<string, string[]>): Resolver {
  return async (hostname) => {
    const addresses = entries[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

function lookupAll(guard: ReturnType<typeof createSsrfGuard>, hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    guard.lookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses as LookupAddress[])));
  });
}

function lookupOne(guard: ReturnType<typeof createSsrfGuard>, hostname: string): Promise<[string, number | undefined]> {
  return new Promise((resolve, reject) => {
    guard.lookup(hostname, {}, (err, address, family) => (err ? reject(err) : resolve([address as string, family])));
  });
}

describe('ssrf-guard', () => {
  describe('classifyAddress', () => {
    const cases: Array<[string, string]> = [
      ['93.184.216.34', 'unicast'],
      ['2606:4700::1111', 'unicast'],
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['::1', 'loopback'],
      ['10.0.0.1', 'private'],
      ['172.16.5.4', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.1.1', 'linkLocal'],
      ['169.254.169.254', 'metadata'],
      ['fd00:ec2::254', 'metadata'],
      ['fe80::1', 'linkLocal'],
      ['fc00::1', 'uniqueLocal'],
      ['100.64.0.1', 'carrierGradeNat'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['255.255.255.255', 'broadcast'],
      ['240.0.0.1', 'reserved'],
      ['192.0.2.1', 'reserved'],
      ['224.0.0.1', 'multicast'],
      ['ff02::1', 'multicast'],
      // IPv6 spellings of IPv4 addresses are judged by the IPv4 address they reach.
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:169.254.169.254', 'metadata'],
      ['::ffff:93.184.216.34', 'unicast'],
      ['64:ff9b::a00:1', 'private'],
      ['2002:a00:1::', 'private'],
      ['::7f00:1', 'ipv4Compatible'],
      ['[::1]', 'loopback'],
      ['fe80::1%eth0', 'linkLocal'],
    ];
    for (const [address, range] of cases) {
      it(`${address} is ${range}`, () => assert.equal(classifyAddress(address), range));
    }

    it('rejects non-addresses', () => {
      assert.throws(() => classifyAddress('example.org'), TypeError);
      assert.throws(() => classifyAddress('127.1'), TypeError);
    });
  });

  describe('verdict and allowPrivate', () => {
    it('allows public addresses and refuses private ones by default', () => {
      const guard = createSsrfGuard([]);
      assert.equal(guard.verdict('93.184.216.34').allowed, true);
      for (const a of ['127.0.0.1', '::1', '10.1.2.3', '169.254.169.254', '::ffff:10.0.0.1', '0.0.0.0']) {
        assert.equal(guard.verdict(a).allowed, false, a);
      }
    });

    it('accepts CIDR ranges, single addresses and host names', () => {
      const guard = createSsrfGuard(['10.0.0.0/8', '192.168.1.7', 'fd12::/16', 'Intranet.Example.']);
      assert.equal(guard.verdict('10.200.1.1').allowed, true);
      assert.equal(guard.verdict('::ffff:10.200.1.1').allowed, true);
      assert.equal(guard.verdict('192.168.1.7').allowed, true);
      assert.equal(guard.verdict('192.168.1.8').allowed, false);
      assert.equal(guard.verdict('fd12::5').allowed, true);
      assert.equal(guard.verdict('fd13::5').allowed, false);
      assert.equal(guard.verdict('172.16.0.1', 'intranet.example').allowed, true);
      assert.equal(guard.verdict('172.16.0.1', 'other.example').allowed, false);
    });

    it('keeps metadata addresses refused unless listed exactly', () => {
      assert.equal(createSsrfGuard(['169.254.0.0/16']).verdict('169.254.169.254').allowed, false);
      assert.equal(createSsrfGuard(['metadata.internal']).verdict('169.254.169.254', 'metadata.internal').allowed, false);
      assert.equal(createSsrfGuard(['169.254.169.254']).verdict('169.254.169.254').allowed, true);
      assert.equal(createSsrfGuard(['169.254.0.0/16']).verdict('169.254.1.1').allowed, true);
    });

    it('treats a mapped IPv6 CIDR as the IPv4 range it covers', () => {
      const guard = createSsrfGuard(['::ffff:127.0.0.0/104']);
      assert.equal(guard.verdict('127.0.0.1').allowed, true);
      assert.equal(guard.verdict('128.0.0.1').allowed, true); // public anyway
      assert.equal(guard.verdict('10.0.0.1').allowed, false);
    });

    it('rejects malformed entries with a message naming them', () => {
      assert.throws(() => createSsrfGuard(['10.0.0.0/33']), /allowPrivate: "10.0.0.0\/33"/);
      assert.throws(() => createSsrfGuard(['http://x']), /allowPrivate: "http:\/\/x"/);
      assert.throws(() => createSsrfGuard(['bad host']), /neither an IP address/);
    });
  });

  describe('checkUrl', () => {
    it('refuses schemes other than http and https', () => {
      const guard = createSsrfGuard([]);
      for (const u of ['file:///etc/passwd', 'ftp://example.org/x', 'gopher://example.org/', 'data:text/plain,hi']) {
        assert.throws(() => guard.checkUrl(new URL(u)), (err: unknown) =>
          err instanceof HttpError && !(err instanceof SsrfError) && !err.retryable && /only http: and https:/.test(err.message));
      }
      guard.checkUrl(new URL('https://example.org/manifest.json'));
    });

    it('checks IP literal hosts, including the spellings a URL parser normalises', () => {
      const guard = createSsrfGuard([]);
      for (const u of ['http://127.0.0.1/', 'http://[::1]:8080/', 'http://[::ffff:10.0.0.1]/', 'http://2130706433/',
        'http://0x7f.1/', 'http://0.0.0.0/', 'http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/']) {
        assert.throws(() => guard.checkUrl(new URL(u)), SsrfError, u);
      }
      guard.checkUrl(new URL('http://93.184.216.34/'));
      guard.checkUrl(new URL('http://localhost/')); // a name: judged by lookup at connect time
    });

    it('names the URL and the address in the error', () => {
      const guard = createSsrfGuard([]);
      assert.throws(() => guard.checkUrl(new URL('http://10.0.0.1/x')), (err: unknown) =>
        err instanceof SsrfError && err.url === 'http://10.0.0.1/x' && err.address === '10.0.0.1' && !err.retryable);
    });
  });

  describe('lookup', () => {
    const resolver = table({
      'public.test': ['93.184.216.34', '2606:4700::1111'],
      'metadata.test': ['169.254.169.254'],
      'private.test': ['10.0.0.1'],
      'mapped.test': ['::ffff:10.0.0.1'],
      'mixed.test': ['93.184.216.34', '10.0.0.1'],
      'localhost.test': ['127.0.0.1'],
    });

    it('returns every address in the form net asks for', async () => {
      const guard = createSsrfGuard([], resolver);
      assert.deepEqual((await lookupAll(guard, 'public.test')).map((a) => a.address), ['93.184.216.34', '2606:4700::1111']);
      assert.deepEqual(await lookupOne(guard, 'public.test'), ['93.184.216.34', 4]);
    });

    it('filters by the family net asks for', async () => {
      const guard = createSsrfGuard([], resolver);
      const v6 = await new Promise<string>((resolve, reject) =>
        guard.lookup('public.test', { family: 6 }, (err, address) => (err ? reject(err) : resolve(address as string))));
      assert.equal(v6, '2606:4700::1111');
    });

    for (const [name, address] of [['metadata.test', '169.254.169.254'], ['private.test', '10.0.0.1'],
      ['mapped.test', '::ffff:10.0.0.1'], ['mixed.test', '10.0.0.1']] as const) {
      it(`refuses ${name} (${address})`, async () => {
        const guard = createSsrfGuard([], resolver);
        await assert.rejects(lookupAll(guard, name), (err: unknown) => err instanceof SsrfError && err.address === address);
        await assert.rejects(lookupOne(guard, name), SsrfError);
      });
    }

    it('allows a private address through an allowed host name or range', async () => {
      assert.equal((await lookupAll(createSsrfGuard(['localhost.test'], resolver), 'localhost.test'))[0]!.address, '127.0.0.1');
      assert.equal((await lookupAll(createSsrfGuard(['127.0.0.0/8'], resolver), 'localhost.test'))[0]!.address, '127.0.0.1');
    });

    it('passes resolution failures through', async () => {
      await assert.rejects(lookupAll(createSsrfGuard([], resolver), 'nowhere.test'), /ENOTFOUND/);
    });
  });
});
