/**
 * Test-side extraction and normalization of the identifiers a message carries, written
 * independently of the generator so that the tests check it rather than repeat it.
 */
import type { GeneratedMessage, PersonTruth } from '../../bench/generate/index.ts';

const CALLING_CODES: Readonly<Record<string, string>> = {
  FR: '33',
  BE: '32',
  DE: '49',
  US: '1',
  GB: '44',
  ES: '34',
  IT: '39',
  NL: '31',
};

export function normalizeEmailForTest(raw: string): string {
  return raw.trim().toLowerCase();
}

/** A typed phone number to E.164, knowing the country of the person who typed it. */
export function normalizePhoneForTest(raw: string, country: string): string {
  const callingCode = CALLING_CODES[country];
  if (callingCode === undefined) throw new Error(`no calling code for ${country}`);
  // "+49 (0)170 ..." and "+44 (0)7400 ...": the trunk 0 in brackets is dropped when dialing abroad.
  const compact = raw.replace('(0)', '').replace(/[^\d+]/g, '');
  if (compact.startsWith('+')) return compact;
  if (compact.startsWith('00')) return `+${compact.slice(2)}`;
  if (country === 'US')
    return compact.length === 11 && compact.startsWith('1') ? `+${compact}` : `+1${compact}`;
  if (compact.startsWith('0')) return `+${callingCode}${compact.slice(1)}`;
  return `+${callingCode}${compact}`;
}

export interface MessageIdentifiers {
  anonymousIds: string[];
  userIds: string[];
  /** Raw, as found in traits. */
  emails: string[];
  /** Raw, as found in traits. */
  phones: string[];
}

/** Every identifier a message exposes at the places identity resolution reads them. */
export function identifiersOf(generated: GeneratedMessage): MessageIdentifiers {
  const message = generated.message;
  const ids: MessageIdentifiers = { anonymousIds: [], userIds: [], emails: [], phones: [] };
  if (message.anonymousId !== undefined) ids.anonymousIds.push(message.anonymousId);
  if (message.userId !== undefined) ids.userIds.push(message.userId);
  if (message.type === 'alias') ids.anonymousIds.push(message.previousId);
  if (message.type === 'identify') {
    const { email, phone } = message.traits;
    if (typeof email === 'string') ids.emails.push(email);
    if (typeof phone === 'string') ids.phones.push(phone);
  }
  return ids;
}

/** Lists the ways a message's identifiers disagree with the truth of the person it is attributed to. */
export function truthMismatches(generated: GeneratedMessage, truth: PersonTruth): string[] {
  const ids = identifiersOf(generated);
  const errors: string[] = [];
  const owns = (list: readonly string[], value: string): boolean => list.includes(value);
  for (const id of ids.anonymousIds) {
    if (!owns(truth.anonymousIds, id) && !owns(truth.shared.anonymousIds, id))
      errors.push(`anonymousId ${id}`);
  }
  for (const id of ids.userIds) if (id !== truth.userId) errors.push(`userId ${id}`);
  for (const raw of ids.emails) {
    const email = normalizeEmailForTest(raw);
    if (!owns(truth.emails, email) && !owns(truth.shared.emails, email)) errors.push(`email ${raw}`);
  }
  for (const raw of ids.phones) {
    if (!owns(truth.phones, normalizePhoneForTest(raw, truth.country))) errors.push(`phone ${raw}`);
  }
  return errors.map((error) => `${truth.personId} ${generated.message.messageId}: ${error} is not theirs`);
}
