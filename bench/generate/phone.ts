/**
 * Mobile phone numbers per country: a unique number for each person index, and the many ways
 * people type it into a form (national, international, with 00, with "(0)", dots, dashes...).
 */
import type { CountryCode } from './countries.ts';
import { at } from './prng.ts';
import type { Prng } from './prng.ts';
import { permute } from './permutation.ts';

export interface PhoneNumber {
  readonly country: CountryCode;
  /** E.164, the normalized form the truth uses: `+33612345678`. */
  readonly e164: string;
  /** National significant number: the digits after the calling code, without trunk prefix. */
  readonly nsn: string;
}

interface PhonePlan {
  readonly callingCode: string;
  /** Prefixes of the mobile ranges; each is followed by `subscriberDigits` digits. */
  readonly prefixes: readonly string[];
  readonly subscriberDigits: number;
  /** Ways people write the number; each gets the NSN. */
  readonly formats: readonly ((nsn: string) => string)[];
}

/** Splits `digits` into groups of the given sizes joined by `separator`; the rest goes last. */
export function groupDigits(digits: string, sizes: readonly number[], separator: string): string {
  const parts: string[] = [];
  let offset = 0;
  for (const size of sizes) {
    if (offset >= digits.length) break;
    parts.push(digits.slice(offset, offset + size));
    offset += size;
  }
  if (offset < digits.length) parts.push(digits.slice(offset));
  return parts.join(separator);
}

/** North American exchanges 200–999 without the N11 service codes (211, 311, ... 911). */
const US_EXCHANGES: readonly string[] = Array.from({ length: 800 }, (_, i) => String(200 + i)).filter(
  (exchange) => !exchange.endsWith('11'),
);
const US_AREA_CODES = ['415', '212', '312', '646', '206', '512', '617', '303', '404', '213'];

const usParts = (nsn: string): [string, string, string] => [nsn.slice(0, 3), nsn.slice(3, 6), nsn.slice(6)];

const PLANS: Readonly<Record<CountryCode, PhonePlan>> = {
  FR: {
    callingCode: '33',
    prefixes: ['6', '7'],
    subscriberDigits: 8,
    formats: [
      (n) => `+33 ${groupDigits(n, [1, 2, 2, 2, 2], ' ')}`,
      (n) => `0${groupDigits(n, [1, 2, 2, 2, 2], ' ')}`,
      (n) => `0033${n}`,
      (n) => `+33${n}`,
      (n) => `0${groupDigits(n, [1, 2, 2, 2, 2], '.')}`,
      (n) => `0${n}`,
    ],
  },
  BE: {
    callingCode: '32',
    prefixes: ['47', '48', '49'],
    subscriberDigits: 7,
    formats: [
      (n) => `+32 ${groupDigits(n, [3, 2, 2, 2], ' ')}`,
      (n) => `0${groupDigits(n, [3, 2, 2, 2], ' ')}`,
      (n) => `0032${n}`,
      (n) => `0${n.slice(0, 3)}/${groupDigits(n.slice(3), [2, 2, 2], '.')}`,
      (n) => `+32${n}`,
    ],
  },
  DE: {
    callingCode: '49',
    prefixes: ['160', '162', '163', '170', '171', '172', '173', '175', '176', '177'],
    subscriberDigits: 7,
    formats: [
      (n) => `+49 ${n.slice(0, 3)} ${n.slice(3)}`,
      (n) => `0${n.slice(0, 3)} ${n.slice(3)}`,
      (n) => `0049 ${n.slice(0, 3)} ${n.slice(3)}`,
      (n) => `0${n.slice(0, 3)}/${n.slice(3)}`,
      (n) => `+49 (0)${n.slice(0, 3)} ${n.slice(3)}`,
      (n) => `+49${n}`,
    ],
  },
  GB: {
    callingCode: '44',
    prefixes: ['74', '75', '77', '78', '79'],
    subscriberDigits: 8,
    formats: [
      (n) => `+44 ${groupDigits(n, [4, 6], ' ')}`,
      (n) => `0${groupDigits(n, [4, 6], ' ')}`,
      (n) => `0044 ${groupDigits(n, [4, 6], ' ')}`,
      (n) => `+44 (0)${groupDigits(n, [4, 6], ' ')}`,
      (n) => `0${n}`,
      (n) => `+44${n}`,
    ],
  },
  US: {
    callingCode: '1',
    prefixes: US_AREA_CODES.flatMap((area) => US_EXCHANGES.map((exchange) => area + exchange)),
    subscriberDigits: 4,
    formats: [
      (n) => `(${usParts(n)[0]}) ${usParts(n)[1]}-${usParts(n)[2]}`,
      (n) => `+1 ${usParts(n).join('-')}`,
      (n) => usParts(n).join('-'),
      (n) => usParts(n).join('.'),
      (n) => `1 (${usParts(n)[0]}) ${usParts(n)[1]}-${usParts(n)[2]}`,
      (n) => `+1${n}`,
    ],
  },
  ES: {
    callingCode: '34',
    prefixes: ['6', '7'],
    subscriberDigits: 8,
    formats: [
      (n) => `+34 ${groupDigits(n, [3, 2, 2, 2], ' ')}`,
      (n) => groupDigits(n, [3, 3, 3], ' '),
      (n) => `0034${n}`,
      (n) => `+34${n}`,
      (n) => `+34 ${groupDigits(n, [3, 3, 3], ' ')}`,
    ],
  },
  IT: {
    callingCode: '39',
    prefixes: ['320', '328', '329', '330', '333', '334', '335', '338', '339', '340', '347', '348', '349'],
    subscriberDigits: 7,
    formats: [
      (n) => `+39 ${groupDigits(n, [3, 3, 4], ' ')}`,
      (n) => `${n.slice(0, 3)} ${n.slice(3)}`,
      (n) => `0039 ${n}`,
      (n) => `${n.slice(0, 3)}-${n.slice(3)}`,
      (n) => `+39${n}`,
    ],
  },
  NL: {
    callingCode: '31',
    prefixes: ['6'],
    subscriberDigits: 8,
    formats: [
      (n) => `+31 6 ${n.slice(1)}`,
      (n) => `06-${n.slice(1)}`,
      (n) => `06 ${groupDigits(n.slice(1), [4, 4], ' ')}`,
      (n) => `0031${n}`,
      (n) => `+31 (0)6 ${n.slice(1)}`,
      (n) => `+31${n}`,
    ],
  },
};

/** How many distinct numbers the plan of `country` can give out. */
export function phoneCapacity(country: CountryCode): number {
  const plan = PLANS[country];
  return plan.prefixes.length * 10 ** plan.subscriberDigits;
}

/** The calling code of `country`, without `+`. */
export function callingCode(country: CountryCode): string {
  return PLANS[country].callingCode;
}

/** The number of person `index`: distinct indices always get distinct numbers. */
export function phoneForIndex(country: CountryCode, index: number, salt: number): PhoneNumber {
  const plan = PLANS[country];
  const block = 10 ** plan.subscriberDigits;
  const slot = permute(index, plan.prefixes.length * block, salt);
  const prefix = at(plan.prefixes, Math.floor(slot / block));
  const nsn = prefix + String(slot % block).padStart(plan.subscriberDigits, '0');
  return { country, nsn, e164: `+${plan.callingCode}${nsn}` };
}

/** How many input formats exist for `country`. */
export function phoneFormatCount(country: CountryCode): number {
  return PLANS[country].formats.length;
}

/** The number as typed in format `variant` (see `phoneFormatCount`). */
export function formatPhone(phone: PhoneNumber, variant: number): string {
  const format = at(PLANS[phone.country].formats, variant);
  return format(phone.nsn);
}

/** The number as a person would type it somewhere: a random plausible format. */
export function noisyPhone(phone: PhoneNumber, prng: Prng): string {
  return formatPhone(phone, prng.int(0, phoneFormatCount(phone.country) - 1));
}
