/**
 * A simulated shopper: who they are (identifiers, profile) and their devices. Built from the
 * person's own PRNG stream, so person i is the same whatever the number of people or the
 * behaviour code, and the truth can be rebuilt without replaying any event.
 */
import { COUNTRIES, COUNTRY_WEIGHTS } from './countries.ts';
import type { Country } from './countries.ts';
import { DEVICE_KIND_WEIGHTS, DEVICE_KINDS, buildDevice, buildKiosk, documentationIp } from './device.ts';
import type { Device } from './device.ts';
import { PERSONAL_DOMAINS, buildEmail } from './email.ts';
import { phoneForIndex } from './phone.ts';
import type { PhoneNumber } from './phone.ts';
import { createPrng, mix32 } from './prng.ts';
import type { Prng } from './prng.ts';
import { PermutationSalt, RandomStream } from './random-streams.ts';
import type { ResolvedShopOptions, ResolvedSuperNode } from './shop-options.ts';
import { buildCompany, companyIndexFor } from './company.ts';
import type { Company } from './company.ts';

/** How much a person buys: drives session counts and funnel conversion. */
export type BuyerProfile = 'never' | 'occasional' | 'frequent';
export type Plan = 'free' | 'plus' | 'premium';

export interface Person {
  readonly index: number;
  readonly personId: string;
  /** CRM id, sent as Segment `userId` once logged in; null for guests. */
  readonly userId: string | null;
  readonly firstName: string;
  readonly lastName: string;
  readonly country: Country;
  readonly locale: string;
  readonly city: string;
  /** Normalized (trimmed, lower-case); the first is the main one. */
  readonly emails: readonly string[];
  readonly phone: PhoneNumber | null;
  readonly plan: Plan;
  readonly profile: BuyerProfile;
  /** Category index the person keeps coming back to. */
  readonly favouriteCategory: number;
  /** Epoch ms of the first visit within the simulated period. */
  readonly firstSeen: number;
  /**
   * Epoch ms the CRM account was created when it predates the period (an existing customer);
   * null otherwise: a person with a userId then signs up at their first login.
   */
  readonly accountCreatedAt: number | null;
  readonly devices: readonly Device[];
  readonly company: Company | null;
  readonly consent: Readonly<Record<string, boolean>> | null;
  /** Super-node scenario: the shared kiosk this person also uses, or the shared e-mail they give. */
  readonly sharedDevice: Device | null;
  readonly sharedEmail: string | null;
}

const DAY = 86_400_000;
const EU_CONSENT_RATE = 0.5;
const NON_EU_CONSENT_RATE = 0.15;

export function personIdFor(index: number): string {
  return `p_${String(index).padStart(7, '0')}`;
}

export function userIdFor(index: number): string {
  return `crm_${String(index + 1).padStart(6, '0')}`;
}

export function isSuperNodeMember(superNode: ResolvedSuperNode | null, index: number): boolean {
  if (superNode === null) return false;
  return index % superNode.stride === 0 && index / superNode.stride < superNode.size;
}

/** Builds person `index` (0-based) of the shop described by `options`. */
export function buildPerson(options: ResolvedShopOptions, index: number): Person {
  const prng = createPrng(options.seed, RandomStream.person, index);
  const member = isSuperNodeMember(options.superNode, index);
  const country = prng.weighted(COUNTRIES, COUNTRY_WEIGHTS);
  const locale = prng.chance(0.75) ? (country.locales[0] ?? 'en-US') : prng.pick(country.locales);
  const firstName = prng.pick(country.firstNames);
  const lastName = prng.pick(country.lastNames);
  const profile = prng.weighted<BuyerProfile>(['never', 'occasional', 'frequent'], [35, 50, 15]);
  const plan = pickPlan(profile, prng);
  // Always draw, then override: members must not shift the draws of anything after.
  const hasUserId = prng.chance(0.8) || member;
  const emailCount = prng.weighted([0, 1, 2], [12, 68, 20]);
  const hasPhone = prng.chance(0.4);
  const company = prng.chance(0.1) ? buildCompany(options.seed, companyIndexFor(index)) : null;
  const consent = drawConsent(country, prng);
  const firstSeen = drawFirstSeen(options, prng);
  const accountCreatedAt = hasUserId ? drawAccountCreation(options, firstSeen, prng) : null;
  const names = { firstName, lastName };
  return {
    index,
    personId: personIdFor(index),
    userId: hasUserId ? userIdFor(index) : null,
    ...names,
    country,
    locale,
    city: prng.pick(country.cities),
    emails: buildEmails(options, index, emailCount, names, company, prng),
    phone: hasPhone ? phoneForIndex(country.code, index, mix32(options.seed ^ PermutationSalt.phone)) : null,
    plan,
    profile,
    favouriteCategory: prng.int(0, 7),
    firstSeen,
    accountCreatedAt,
    devices: buildDevices(options, firstSeen, prng),
    company,
    consent,
    sharedDevice: member && options.superNode?.kind === 'anonymousId' ? kioskFor(options, firstSeen) : null,
    sharedEmail: member && options.superNode?.kind === 'email' ? options.superNode.value : null,
  };
}

function pickPlan(profile: BuyerProfile, prng: Prng): Plan {
  const weights = profile === 'frequent' ? [40, 35, 25] : profile === 'occasional' ? [70, 22, 8] : [90, 8, 2];
  return prng.weighted<Plan>(['free', 'plus', 'premium'], weights);
}

function drawConsent(country: Country, prng: Prng): Record<string, boolean> | null {
  const rate = country.code === 'US' ? NON_EU_CONSENT_RATE : EU_CONSENT_RATE;
  if (!prng.chance(rate)) return null;
  return Object.freeze({
    Advertising: prng.chance(0.45),
    Analytics: prng.chance(0.7),
    Functional: true,
    DataSharing: prng.chance(0.3),
  });
}

/** A third are customers from before the period; the others arrive during it. */
function drawFirstSeen(options: ResolvedShopOptions, prng: Prng): number {
  const span = options.end - options.start;
  const latest = span > 2 * DAY ? options.end - DAY : options.start;
  const offset = prng.chance(0.33) ? prng.next() * Math.min(span, 7 * DAY) : prng.next() * span;
  return Math.floor(Math.min(options.start + offset, latest));
}

function drawAccountCreation(options: ResolvedShopOptions, firstSeen: number, prng: Prng): number | null {
  const early = firstSeen - options.start < 7 * DAY;
  return prng.chance(0.7) && early ? Math.floor(options.start - (1 + prng.next() * 730) * DAY) : null;
}

function buildEmails(
  options: ResolvedShopOptions,
  index: number,
  count: number,
  names: { firstName: string; lastName: string },
  company: Company | null,
  prng: Prng,
): string[] {
  const salt = mix32(options.seed ^ PermutationSalt.email);
  const emails: string[] = [];
  for (let slot = 0; slot < count; slot++) {
    const work = slot === 1 && company !== null;
    const domain = work ? company.domain : prng.pick(PERSONAL_DOMAINS);
    emails.push(buildEmail({ ...names, uniqueIndex: index * 2 + slot, salt, domain, style: prng.int(0, 9) }));
  }
  return emails;
}

function buildDevices(options: ResolvedShopOptions, firstSeen: number, prng: Prng): Device[] {
  const count = prng.weighted([1, 2, 3, 4], [45, 30, 17, 8]);
  const devices: Device[] = [];
  for (let i = 0; i < count; i++) {
    const seen = i === 0 ? firstSeen : firstSeen + Math.floor(prng.next() * (options.end - firstSeen) * 0.8);
    devices.push(buildDevice(prng.weighted(DEVICE_KINDS, DEVICE_KIND_WEIGHTS), prng, seen));
  }
  return devices;
}

function kioskFor(options: ResolvedShopOptions, firstSeen: number): Device {
  const value = options.superNode?.value ?? '';
  const ip = documentationIp(createPrng(options.seed, RandomStream.superNode, 1));
  return buildKiosk(value, ip, firstSeen);
}
