/**
 * E-mail addresses: a unique address for each (person, slot), and the sloppy ways it shows up
 * in forms (mixed case, stray spaces). Only reserved domains (RFC 2606) are used.
 */
import { at } from './prng.ts';
import type { Prng } from './prng.ts';
import { uniqueToken } from './permutation.ts';

export const PERSONAL_DOMAINS: readonly string[] = [
  'example.com',
  'example.org',
  'example.net',
  'mail.example',
  'post.example',
  'inbox.example',
];

/** The normalized form the truth uses: trimmed and lower-cased. */
export function normalizeEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

/** "Hélène D'Almeida" → "helenedalmeida": what survives in an e-mail local part. */
export function asciiSlug(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}

export interface EmailSeed {
  readonly firstName: string;
  readonly lastName: string;
  /** Unique per (person, slot): the token at the end of the local part keeps addresses distinct. */
  readonly uniqueIndex: number;
  readonly salt: number;
  readonly domain: string;
  /** Which local-part style to use, any integer. */
  readonly style: number;
}

/** A normalized address. Distinct `uniqueIndex` values always give distinct addresses. */
export function buildEmail(seed: EmailSeed): string {
  const first = asciiSlug(seed.firstName) || 'user';
  const last = asciiSlug(seed.lastName) || 'shopper';
  const token = uniqueToken(seed.uniqueIndex, seed.salt);
  const styles = [
    `${first}.${last}.${token}`,
    `${first}${last}${token}`,
    `${first.charAt(0)}.${last}.${token}`,
    `${first}_${token}`,
    `${last}.${first}.${token}`,
  ];
  return `${at(styles, Math.abs(seed.style) % styles.length)}@${seed.domain}`;
}

/** The address as typed into a form: mixed case and stray spaces, never other changes. */
export function noisyEmail(email: string, prng: Prng): string {
  return padWithSpaces(recase(email, prng), prng);
}

function recase(email: string, prng: Prng): string {
  const r = prng.next();
  if (r < 0.55) return email;
  const [local = '', domain = ''] = email.split('@');
  if (r < 0.75) return `${capitalizeParts(local)}@${domain}`;
  if (r < 0.85) return `${local}@${domain.toUpperCase()}`;
  if (r < 0.95) return `${capitalizeParts(local)}@${capitalizeLabelsOddly(domain)}`;
  return email.toUpperCase();
}

function padWithSpaces(email: string, prng: Prng): string {
  const r = prng.next();
  if (r < 0.75) return email;
  const spaces = ' '.repeat(prng.int(1, 3));
  if (r < 0.85) return email + spaces;
  if (r < 0.93) return spaces + email;
  return `${spaces}${email} `;
}

/** "jane.doe" → "Jane.Doe". */
function capitalizeParts(local: string): string {
  return local.replace(/(^|[._])([a-z])/g, (_m, sep: string, letter: string) => sep + letter.toUpperCase());
}

/** "example.com" → "Example.COM", as people with caps lock habits type it. */
function capitalizeLabelsOddly(domain: string): string {
  const labels = domain.split('.');
  return labels
    .map((label, i) =>
      i === labels.length - 1 ? label.toUpperCase() : label.charAt(0).toUpperCase() + label.slice(1),
    )
    .join('.');
}
