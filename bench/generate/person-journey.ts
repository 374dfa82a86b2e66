/**
 * A person's months of activity: sessions spread over their devices, played in time order so
 * that what a device remembers (who is logged in) and what the person did (signed up, ordered)
 * carries from one session to the next.
 */
import type { Catalog } from './catalog.ts';
import type { Device } from './device.ts';
import { documentationIp } from './device.ts';
import type { JourneyState } from './identity-actions.ts';
import { createIsoFormatter } from './iso-time.ts';
import type { BuyerProfile, Person } from './person.ts';
import { createPrng } from './prng.ts';
import type { Prng } from './prng.ts';
import { RandomStream } from './random-streams.ts';
import type { GeneratedMessage } from './segment-message.ts';
import { SessionEmitter } from './session-emitter.ts';
import type { DeviceMemory } from './session-emitter.ts';
import type { ResolvedShopOptions } from './shop-options.ts';
import { runSession } from './shopping-session.ts';

/** What every person's simulation shares; built once per run. */
export interface ShopWorld {
  readonly options: ResolvedShopOptions;
  readonly catalog: Catalog;
  readonly orderSalt: number;
}

interface ScheduledSession {
  readonly device: Device;
  readonly memory: DeviceMemory;
  readonly start: number;
  readonly kiosk: boolean;
}

const MONTH = 30 * 86_400_000;
/** Sessions start this long before the end at the latest, so they finish inside the period. */
const SESSION_MARGIN = 4 * 3_600_000;
const MAX_SESSIONS_PER_DEVICE = 500;
const SESSION_GAP = 30 * 60_000;
/** Sessions per month on the main device; other devices get half. */
const SESSIONS_PER_MONTH: Readonly<Record<BuyerProfile, number>> = {
  never: 0.6,
  occasional: 1,
  frequent: 2.5,
};

/** All messages of `person`, sorted by time. */
export function simulatePerson(person: Person, world: ShopWorld): GeneratedMessage[] {
  const prng = createPrng(world.options.seed, RandomStream.behaviour, person.index);
  const state: JourneyState = {
    signedUp: person.accountCreatedAt !== null,
    checkouts: 0,
    orders: 0,
    sharedEmailSent: false,
  };
  const out: GeneratedMessage[] = [];
  const formatTime = createIsoFormatter();
  const sessions = scheduleSessions(person, world.options, prng);
  sessions.forEach((session, i) => {
    // One device runs one session at a time: a session drawn during the previous one is
    // dropped (not delayed, which would play sessions out of time order).
    if (session.start < session.memory.busyUntil + SESSION_GAP) return;
    const { device, memory, start } = session;
    const ip = roams(device) && prng.chance(0.4) ? documentationIp(prng) : device.ip;
    const emitter = new SessionEmitter({ person, device, memory, prng, out, start, ip, formatTime });
    const forceLogin = session.kiosk || (i === 0 && person.sharedEmail !== null);
    runSession(emitter, { catalog: world.catalog, state, orderSalt: world.orderSalt, forceLogin });
    if (session.kiosk) emitter.logout();
    memory.busyUntil = emitter.time;
  });
  // Sessions on two devices may overlap; a stable sort keeps each session's own order.
  return out.sort((a, b) => a.time - b.time);
}

function scheduleSessions(person: Person, options: ResolvedShopOptions, prng: Prng): ScheduledSession[] {
  const last = options.end - SESSION_MARGIN;
  const sessions: ScheduledSession[] = [];
  person.devices.forEach((device, i) => {
    const first = Math.min(device.firstSeen, last);
    const months = (last - first) / MONTH;
    const mean = SESSIONS_PER_MONTH[person.profile] * months * (i === 0 ? 1 : 0.5) * options.activity;
    const count = Math.min(MAX_SESSIONS_PER_DEVICE, Math.max(1, prng.poisson(mean)));
    const memory = newMemory();
    // The first session is when the device shows up; it is what makes its anonymousId appear.
    sessions.push({ device, memory, start: first, kiosk: false });
    for (let k = 1; k < count; k++) {
      sessions.push({
        device,
        memory,
        start: first + Math.floor(prng.next() * (last - first)),
        kiosk: false,
      });
    }
  });
  if (person.sharedDevice !== null) {
    const kiosk = person.sharedDevice;
    const first = Math.min(person.firstSeen, last);
    const memory = newMemory();
    for (let k = prng.int(1, 3); k > 0; k--) {
      sessions.push({
        device: kiosk,
        memory,
        start: first + Math.floor(prng.next() * (last - first)),
        kiosk: true,
      });
    }
  }
  return sessions.sort((a, b) => a.start - b.start);
}

function newMemory(): DeviceMemory {
  return { userId: undefined, emailSent: false, grouped: false, busyUntil: Number.NEGATIVE_INFINITY };
}

function roams(device: Device): boolean {
  return device.kind === 'mobile-web' || device.kind === 'ios' || device.kind === 'android';
}
