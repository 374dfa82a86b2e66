import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  checkDestinationUrl,
  egressAllowed,
  isPublicAddress,
  MAX_URL_LENGTH,
  parseEgressAllow,
  resolveEgress,
  systemResolver,
  type Resolver,
} from '../../src/destinations/egress-policy.ts';

const NO_ALLOW = parseEgressAllow([]);

/** A fake DNS: fixed answers per name, an error for anything else, and a count of questions. */
function fakeDns(answers: Record<string, readonly string[]>): Resolver & { readonly asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string) => {
    asked.push(hostname);
    const found = answers[hostname];
    if (found === undefined) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    }
    return found.map((address) => ({ address, family: address.includes(':') ? (6 as const) : (4 as const) }));
  };
  return Object.assign(resolve, { asked });
}

function url(text: string): URL {
  const checked = checkDestinationUrl(text);
  assert.ok(checked.ok, `${text}: ${checked.ok ? '' : checked.message}`);
  return checked.url;
}

// One line per range: addresses inside it (never public) | its neighbours just outside (public).
const IPV4_RANGES = [
  '0.0.0.0 0.255.255.255 | 1.0.0.0',
  '10.0.0.0 10.255.255.255 | 9.255.255.255 11.0.0.0',
  '100.64.0.0 100.100.100.200 100.127.255.255 | 100.63.255.255 100.128.0.0',
  '127.0.0.0 127.0.0.1 127.255.255.255 | 126.255.255.255 128.0.0.0',
  '169.254.0.0 169.254.169.254 169.254.255.255 | 169.253.255.255 169.255.0.0',
  '172.16.0.0 172.31.255.255 | 172.15.255.255 172.32.0.0',
  '192.0.0.0 192.0.0.255 | 191.255.255.255 192.0.1.0',
  '192.0.2.0 192.0.2.255 | 192.0.1.255 192.0.3.0',
  '192.168.0.0 192.168.255.255 | 192.167.255.255 192.169.0.0',
  '198.18.0.0 198.19.255.255 | 198.17.255.255 198.20.0.0',
  '198.51.100.0 198.51.100.255 | 198.51.99.255 198.51.101.0',
  '203.0.113.0 203.0.113.255 | 203.0.112.255 203.0.114.0',
  '224.0.0.0 239.255.255.255 240.0.0.0 255.255.255.254 255.255.255.255 | 223.255.255.255 8.8.8.8',
];

const IPV6_RANGES = [
  ':: ::1 0:0:0:0:0:0:0:1 ::2 | 2606:4700:4700::1111 2001:4860:4860::8888',
  'fc00:: fd12:3456::1 fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff |',
  'fe80:: fe80::1%eth0 febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff fec0::1 |',
  'ff00:: ff02::1 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff |',
  '2001:db8:: 2001:db8:ffff:ffff:ffff:ffff:ffff:ffff | 2001:db7:ffff:ffff:ffff:ffff:ffff:ffff 2001:db9::',
  '100:: 100::ffff:ffff:ffff:ffff |',
  // Outside 2000::/3 (global unicast) nothing is public, so the ranges above have no public neighbours.
  'fbff::1 feff::1 100:0:0:1:: 1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 4000::1 | 2000::1',
  '3fff::1 3fff:fff:ffff::1 | 3ffe:ffff::1 3fff:1000::1',
  // IPv4-mapped, in either notation: the embedded address decides.
  '::ffff:127.0.0.1 ::ffff:7f00:1 0:0:0:0:0:ffff:7f00:1 ::ffff:10.0.0.1 ::ffff:0.0.0.0 |',
  '::ffff:169.254.169.254 | ::ffff:8.8.8.8 ::ffff:808:808',
  // IPv4-compatible, NAT64 (its local-use prefix is never public), 6to4 and Teredo.
  '::127.0.0.1 ::a00:1 | ::8.8.8.8',
  '64:ff9b::127.0.0.1 64:ff9b::a9fe:a9fe 64:ff9b::10.0.0.1 | 64:ff9b::8.8.8.8 64:ff9b::808:808',
  '64:ff9b:1::8.8.8.8 |',
  '2002:7f00:1::1 2002:c0a8:101::1 | 2002:808:808::1',
  '2001:0:4136:e378:8000:63bf:3fff:fdd2 2001:0:4136:e378:8000:63bf:80ff:fffe | 2001:0:4136:e378:8000:63bf:f7f7:f7f7',
];

function sides(line: string): { inside: string[]; outside: string[] } {
  const [inside = '', outside = ''] = line.split('|');
  const words = (text: string) => text.split(' ').filter((word) => word !== '');
  return { inside: words(inside), outside: words(outside) };
}

const NOT_ADDRESSES = [
  '',
  'localhost',
  'example.com',
  '2130706433',
  '0x7f.1',
  '0x7f000001',
  '127.1',
  '0177.0.0.1',
  '010.0.0.1',
  '1.2.3.4.5',
  '256.1.1.1',
  '::ffff:1.2.3',
  '1:2:3:4:5:6:7:8:9',
  'fe80::1::2',
  '[::1',
  ' 8.8.8.8',
];

it('classifies IPv4 addresses on both sides of every non-public range', () => {
  for (const { inside, outside } of IPV4_RANGES.map(sides)) {
    for (const address of inside) assert.equal(isPublicAddress(address), false, address);
    for (const address of outside) assert.equal(isPublicAddress(address), true, address);
  }
});

it('classifies IPv6 addresses, judging mapped, compatible, NAT64, 6to4 and Teredo ones by their IPv4', () => {
  for (const { inside, outside } of IPV6_RANGES.map(sides)) {
    for (const address of inside) {
      assert.equal(isPublicAddress(address), false, address);
      assert.equal(isPublicAddress(`[${address}]`), false, `[${address}]`);
    }
    for (const address of outside) {
      assert.equal(isPublicAddress(address), true, address);
      assert.equal(isPublicAddress(`[${address}]`), true, `[${address}]`);
    }
  }
});

it('treats anything that is not an IP address as not public', () => {
  for (const text of NOT_ADDRESSES) assert.equal(isPublicAddress(text), false, JSON.stringify(text));
});

it('allows non-public addresses by listed host name, address or CIDR, and nothing else', () => {
  const allow = parseEgressAllow([
    'localhost',
    'Hooks.Internal.EXAMPLE.',
    '127.0.0.1',
    '[::1]',
    '10.0.0.0/8',
    'fd00::/8',
    '::ffff:192.168.1.0/120',
    '172.16.5.9/12',
  ]);
  assert.deepEqual(allow.ignored, []);
  const cases: readonly (readonly [string, string, boolean])[] = [
    ['localhost', '127.0.0.5', true],
    ['LOCALHOST.', '::1', true],
    ['[localhost]', '10.9.9.9', true],
    ['hooks.internal.example', '192.168.50.1', true],
    ['hooks.internal.example.', '169.254.169.254', true],
    ['other.example', '127.0.0.1', true],
    ['other.example', '::ffff:127.0.0.1', true],
    ['other.example', '::ffff:7f00:1', true],
    ['other.example', '127.0.0.2', false],
    ['other.example', '::1', true],
    ['other.example', '0:0:0:0:0:0:0:1', true],
    ['other.example', '10.0.0.0', true],
    ['other.example', '10.255.255.255', true],
    ['other.example', '::ffff:10.1.2.3', true],
    ['other.example', '9.255.255.255', true], // public
    ['other.example', '100.64.0.1', false],
    ['other.example', 'fd12::1', true],
    ['other.example', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', true],
    ['other.example', 'fc00::1', false],
    ['other.example', 'fe80::1', false],
    ['other.example', '192.168.1.0', true],
    ['other.example', '192.168.1.255', true],
    ['other.example', '192.168.2.0', false],
    // Bits below the prefix of 172.16.5.9/12 are ignored: the entry is 172.16.0.0/12.
    ['other.example', '172.31.0.1', true],
    ['other.example', '172.32.0.1', true], // public
    ['internal.example', '192.168.0.1', false],
    ['sub.localhost', '127.0.0.5', false],
  ];
  for (const [host, address, expected] of cases) {
    assert.equal(egressAllowed(host, address, allow), expected, `${host} → ${address}`);
  }
});

it('without an allow list, only public addresses pass; garbage never passes', () => {
  assert.equal(egressAllowed('example.com', '93.184.215.14', NO_ALLOW), true);
  assert.equal(egressAllowed('example.com', '2606:4700:4700::1111', NO_ALLOW), true);
  for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '10.0.0.1', 'fe80::1', '0.0.0.0', '::']) {
    assert.equal(egressAllowed('localhost', address, NO_ALLOW), false, address);
  }
  const byHost = parseEgressAllow(['localhost']);
  assert.equal(egressAllowed('localhost', 'not-an-ip', byHost), false);
  assert.equal(egressAllowed('localhost', '', byHost), false);
});

it('ignores allow entries that are neither a host, an address nor a CIDR', () => {
  const allow = parseEgressAllow([
    '10.0.0.0/33',
    'fd00::/129',
    '10.0.0.0/8/1',
    'bad host',
    'host:8080',
    'x/y',
  ]);
  assert.deepEqual(allow.ignored, [
    '10.0.0.0/33',
    'fd00::/129',
    '10.0.0.0/8/1',
    'bad host',
    'host:8080',
    'x/y',
  ]);
  assert.equal(allow.ranges.length, 0);
  assert.equal(allow.hosts.size, 0);
  assert.equal(egressAllowed('host', '10.0.0.1', allow), false);
  const everything = parseEgressAllow(['0.0.0.0/0', '::/0']);
  assert.equal(egressAllowed('x', '127.0.0.1', everything), true);
  assert.equal(egressAllowed('x', 'fe80::1', everything), true);
});

it('accepts only absolute http(s) URLs without credentials, with a host and a valid port', () => {
  for (const text of [
    'https://hooks.example.com/x?y=1',
    'http://127.0.0.1:8080/',
    'http://[::1]:1/',
    'https://example.com:65535/path',
    `https://example.com/${'a'.repeat(MAX_URL_LENGTH - 'https://example.com/'.length)}`,
  ]) {
    assert.equal(checkDestinationUrl(text).ok, true, text);
  }
  const refused: readonly (readonly [string, RegExp])[] = [
    ['ftp://example.com/', /http or https, not ftp/],
    ['file:///etc/passwd', /http or https/],
    ['javascript:alert(1)', /http or https/],
    ['gopher://127.0.0.1:6379/_INFO', /http or https/],
    ['https://user:pass@example.com/', /user name or password/],
    ['https://user@example.com/', /user name or password/],
    ['https://:secret@example.com/', /user name or password/],
    ['http://example.com:0/', /port must be between 1 and 65535/],
    ['http://example.com:65536/', /port must be between 1 and 65535/],
    ['http://[::1]:99999/x', /port must be between 1 and 65535/],
    ['not a url', /not a valid absolute URL/],
    ['/relative/path', /not a valid absolute URL/],
    ['', /not a valid absolute URL/],
    ['http://', /not a valid absolute URL/],
    [`https://example.com/${'a'.repeat(MAX_URL_LENGTH)}`, /longer than 2048 characters/],
    [`https://example.com/${' '.repeat(700)}x`, /longer than 2048 characters/], // 2,100 once encoded
  ];
  for (const [text, message] of refused) {
    const checked = checkDestinationUrl(text);
    assert.equal(checked.ok, false, text);
    if (!checked.ok) assert.match(checked.message, message, text);
  }
});

it('judges IP-literal hosts without DNS, whatever notation the URL used', async () => {
  const dns = fakeDns({});
  const refused = [
    'http://127.0.0.1/',
    'http://127.0.0.1:8080/hook',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://0x7f000001/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://0/',
    'http://0.0.0.0/',
    'http://[::1]/',
    'http://[0:0:0:0:0:0:0:1]/',
    'http://[::]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[::127.0.0.1]/',
    'http://[64:ff9b::127.0.0.1]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://0xa9fea9fe/',
    'http://[fd00:ec2::254]/',
    'http://100.100.100.200/',
    'http://10.0.0.1/',
    'http://192.168.1.1/',
    'http://[fe80::1]/',
  ];
  for (const text of refused) {
    const decision = await resolveEgress(url(text), NO_ALLOW, dns);
    assert.equal(decision.ok, false, text);
    if (!decision.ok) {
      assert.match(decision.message, /not a public address/, text);
      assert.equal(decision.retryable, false, text);
    }
  }
  assert.deepEqual(await resolveEgress(url('http://93.184.215.14/'), NO_ALLOW, dns), {
    ok: true,
    address: '93.184.215.14',
    family: 4,
  });
  assert.deepEqual(await resolveEgress(url('https://[2606:4700:4700::1111]:8443/'), NO_ALLOW, dns), {
    ok: true,
    address: '2606:4700:4700::1111',
    family: 6,
  });
  assert.deepEqual(await resolveEgress(url('http://[::1]:9000/'), parseEgressAllow(['::1']), dns), {
    ok: true,
    address: '::1',
    family: 6,
  });
  assert.deepEqual(dns.asked, []);
});

it('refuses a DNS answer if any of its addresses is not allowed', async () => {
  const dns = fakeDns({
    'hooks.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
    'rebind.example.com': ['93.184.215.14', '127.0.0.1'],
    'rebind6.example.com': ['2606:4700:4700::1111', '::ffff:169.254.169.254'],
    'private-first.example.com': ['10.0.0.7', '93.184.215.14'],
    '127.0.0.1.nip.io': ['127.0.0.1'],
    '0x7f.1.example': ['127.0.0.1'],
    'internal.example.com': ['10.1.2.3', '10.1.2.4'],
    'half-internal.example.com': ['10.1.2.3', '192.168.0.1'],
    'empty.example.com': [],
  });
  assert.deepEqual(await resolveEgress(url('https://hooks.example.com/x'), NO_ALLOW, dns), {
    ok: true,
    address: '93.184.215.14',
    family: 4,
  });
  for (const host of [
    'rebind.example.com',
    'rebind6.example.com',
    'private-first.example.com',
    '127.0.0.1.nip.io',
    '0x7f.1.example',
  ]) {
    const decision = await resolveEgress(url(`https://${host}/`), NO_ALLOW, dns);
    assert.equal(decision.ok, false, host);
    if (!decision.ok) {
      assert.match(decision.message, new RegExp(`"${host.replaceAll('.', '\\.')}" resolves to`), host);
      assert.equal(decision.retryable, false);
    }
  }
  const cidr = parseEgressAllow(['10.0.0.0/8']);
  assert.deepEqual(await resolveEgress(url('http://internal.example.com/'), cidr, dns), {
    ok: true,
    address: '10.1.2.3',
    family: 4,
  });
  const half = await resolveEgress(url('http://half-internal.example.com/'), cidr, dns);
  assert.equal(half.ok, false);
  if (!half.ok) assert.match(half.message, /192\.168\.0\.1/);
  assert.equal(dns.asked.filter((name) => name === 'internal.example.com').length, 1);

  const empty = await resolveEgress(url('http://empty.example.com/'), NO_ALLOW, dns);
  assert.deepEqual(empty, {
    ok: false,
    message: 'could not resolve "empty.example.com": no address',
    retryable: true,
  });
  const missing = await resolveEgress(url('http://nowhere.example.com/'), NO_ALLOW, dns);
  assert.deepEqual(missing, {
    ok: false,
    message: 'could not resolve "nowhere.example.com": ENOTFOUND',
    retryable: true,
  });
});

it('allows a listed host name whatever it resolves to, with or without a trailing dot', async () => {
  const dns = fakeDns({ localhost: ['127.0.0.1', '::1'], 'localhost.': ['::1', '127.0.0.1'] });
  const refused = await resolveEgress(url('http://localhost:8080/'), NO_ALLOW, dns);
  assert.equal(refused.ok, false);
  const allow = parseEgressAllow(['localhost']);
  assert.deepEqual(await resolveEgress(url('http://localhost:8080/'), allow, dns), {
    ok: true,
    address: '127.0.0.1',
    family: 4,
  });
  assert.deepEqual(await resolveEgress(url('http://LOCALHOST./'), allow, dns), {
    ok: true,
    address: '::1',
    family: 6,
  });
});

it('the system resolver answers for localhost, and the policy refuses it', async () => {
  const answers = await systemResolver('localhost');
  assert.ok(answers.length > 0);
  for (const answer of answers) {
    assert.ok(['127.0.0.1', '::1'].includes(answer.address), answer.address);
    assert.equal(answer.family, answer.address.includes(':') ? 6 : 4);
  }
  const decision = await resolveEgress(url('http://localhost/'), NO_ALLOW, systemResolver);
  assert.equal(decision.ok, false);
});
