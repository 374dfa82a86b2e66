/**
 * Devices: one anonymousId each, and the context fields their Segment library sends
 * (library, userAgent, app/os/device/screen for the mobile apps).
 */
import { SHOP_NAME } from './catalog.ts';
import type { Prng } from './prng.ts';
import type { SegmentContext } from './segment-message.ts';

export type DeviceKind = 'desktop' | 'mobile-web' | 'tablet-web' | 'ios' | 'android' | 'kiosk';

export const DEVICE_KINDS: readonly DeviceKind[] = ['desktop', 'mobile-web', 'tablet-web', 'ios', 'android'];
export const DEVICE_KIND_WEIGHTS: readonly number[] = [40, 30, 5, 13, 12];

/** Context fields fixed for the device's life; shared (frozen) by all its messages. */
export type DeviceContext = Pick<
  SegmentContext,
  'library' | 'userAgent' | 'app' | 'device' | 'os' | 'screen'
>;

export interface Device {
  readonly anonymousId: string;
  readonly kind: DeviceKind;
  /** Web devices send `page` calls, apps send `screen` calls. */
  readonly platform: 'web' | 'app';
  readonly context: DeviceContext;
  /** The device's usual (home or office) address; mobiles roam between sessions. */
  readonly ip: string;
  /** Epoch ms of the first session on the device. */
  readonly firstSeen: number;
}

/** Documentation ranges only (RFC 5737): these generated events never carry real addresses. */
const IP_PREFIXES = ['192.0.2.', '198.51.100.', '203.0.113.'];

const DESKTOP_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
];
const MOBILE_AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
];
const TABLET_AGENTS = [
  'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
];
const KIOSK_AGENT =
  'Mozilla/5.0 (X11; CrOS x86_64 15633.69.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.212 Safari/537.36';
const WEB_LIBRARY_VERSIONS = ['next-1.70.0', 'next-1.66.0', 'next-1.72.1'];
const IOS_MODELS = ['iPhone14,5', 'iPhone15,2', 'iPhone15,4', 'iPhone16,1'];
const ANDROID_MODELS: readonly (readonly [string, string])[] = [
  ['Google', 'Pixel 8'],
  ['samsung', 'SM-S911B'],
  ['samsung', 'SM-A546B'],
  ['Xiaomi', '23049PCD8G'],
];
const APP = { name: SHOP_NAME, namespace: 'example.shop.app' };

/** A documentation-range IPv4 address. */
export function documentationIp(prng: Prng): string {
  return prng.pick(IP_PREFIXES) + String(prng.int(1, 254));
}

export function buildDevice(kind: DeviceKind, prng: Prng, firstSeen: number): Device {
  return {
    anonymousId: prng.uuid(),
    kind,
    platform: kind === 'ios' || kind === 'android' ? 'app' : 'web',
    context: deepFreeze(deviceContext(kind, prng)),
    ip: documentationIp(prng),
    firstSeen,
  };
}

/** A shared in-store device whose anonymousId is given (the super-node scenario). */
export function buildKiosk(anonymousId: string, ip: string, firstSeen: number): Device {
  const context = deepFreeze({
    library: { name: 'analytics.js', version: 'next-1.70.0' },
    userAgent: KIOSK_AGENT,
  });
  return { anonymousId, kind: 'kiosk', platform: 'web', context, ip, firstSeen };
}

function deviceContext(kind: DeviceKind, prng: Prng): DeviceContext {
  switch (kind) {
    case 'desktop':
      return webContext(prng.pick(DESKTOP_AGENTS), prng);
    case 'mobile-web':
      return webContext(prng.pick(MOBILE_AGENTS), prng);
    case 'tablet-web':
      return webContext(prng.pick(TABLET_AGENTS), prng);
    case 'kiosk':
      return webContext(KIOSK_AGENT, prng);
    case 'ios':
      return iosContext(prng);
    case 'android':
      return androidContext(prng);
  }
}

function webContext(userAgent: string, prng: Prng): DeviceContext {
  return { library: { name: 'analytics.js', version: prng.pick(WEB_LIBRARY_VERSIONS) }, userAgent };
}

function appInfo(prng: Prng): NonNullable<DeviceContext['app']> {
  const minor = prng.int(2, 6);
  return { ...APP, version: `3.${minor}.0`, build: String(300 + minor * 10) };
}

function iosContext(prng: Prng): DeviceContext {
  return {
    library: { name: 'analytics-swift', version: prng.pick(['1.5.11', '1.6.0']) },
    app: appInfo(prng),
    device: { manufacturer: 'Apple', model: prng.pick(IOS_MODELS), type: 'ios' },
    os: { name: 'iOS', version: prng.pick(['16.7.8', '17.4.1', '17.5']) },
    screen: { width: 390, height: 844, density: 3 },
  };
}

function androidContext(prng: Prng): DeviceContext {
  const [manufacturer, model] = prng.pick(ANDROID_MODELS);
  const os = prng.pick(['13', '14']);
  return {
    library: { name: 'analytics-kotlin', version: prng.pick(['1.15.2', '1.16.3']) },
    userAgent: `Dalvik/2.1.0 (Linux; U; Android ${os}; ${model} Build/UQ1A.240205.004)`,
    app: appInfo(prng),
    device: { manufacturer, model, type: 'android' },
    os: { name: 'Android', version: os },
    screen: { width: 1080, height: 2400, density: 2.625 },
  };
}

/** Messages share these objects; freezing makes an accidental in-place edit throw, not spread. */
function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null) deepFreeze(child as object);
  }
  return Object.freeze(value);
}
