/**
 * Company accounts (Segment `group` calls). A company is a function of its index alone, so all
 * its employees, built independently, agree on its groupId, name and traits.
 */
import { createPrng } from './prng.ts';
import { RandomStream } from './random-streams.ts';

export interface Company {
  readonly groupId: string;
  readonly name: string;
  /** Where employees' work e-mails live (reserved `.example` TLD). */
  readonly domain: string;
  readonly industry: string;
  readonly employees: number;
  readonly plan: 'business' | 'enterprise';
}

const PREFIXES = [
  'Blue',
  'North',
  'Bright',
  'Green',
  'Silver',
  'Urban',
  'Alpine',
  'Coastal',
  'Quantum',
  'Atlas',
];
const SUFFIXES = ['Logistics', 'Studio', 'Labs', 'Partners', 'Foods', 'Consulting', 'Retail', 'Systems'];
const LEGAL = ['SAS', 'GmbH', 'Ltd', 'Inc.', 'BV', 'S.L.', 'S.r.l.', 'SA'];
const INDUSTRIES = ['Retail', 'Software', 'Hospitality', 'Construction', 'Healthcare', 'Education', 'Media'];

/**
 * Each block of 30 consecutive people shares one company: with ~10% of people employed, about
 * three colleagues each. Tied to the index, not to the number of people, so that person i is
 * the same in a shop of 100 or of a million.
 */
const BLOCK = 30;

export function companyIndexFor(personIndex: number): number {
  return Math.floor(personIndex / BLOCK);
}

export function buildCompany(seed: number, companyIndex: number): Company {
  const prng = createPrng(seed, RandomStream.company, companyIndex);
  const prefix = prng.pick(PREFIXES);
  const suffix = prng.pick(SUFFIXES);
  const number = String(companyIndex + 1).padStart(5, '0');
  return {
    groupId: `grp_${number}`,
    name: `${prefix} ${suffix} ${prng.pick(LEGAL)}`,
    domain: `${prefix}${suffix}${number}.example`.toLowerCase(),
    industry: prng.pick(INDUSTRIES),
    employees: prng.weighted([5, 25, 120, 800, 5000], [30, 30, 20, 15, 5]),
    plan: prng.chance(0.8) ? 'business' : 'enterprise',
  };
}
