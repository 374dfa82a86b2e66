/**
 * The ground truth of one person: every identifier that is really theirs, normalized. Benchmarks
 * compare identity resolution against it.
 */
import type { CountryCode } from './countries.ts';
import type { BuyerProfile, Person } from './person.ts';

export interface PersonTruth {
  readonly personId: string;
  readonly userId: string | null;
  /** One per device the person owns; all of them appear in events. */
  readonly anonymousIds: readonly string[];
  /** Trimmed and lower-cased. An address may never appear in events (as in real life). */
  readonly emails: readonly string[];
  /** E.164 (`+33612345678`). May never appear in events either. */
  readonly phones: readonly string[];
  readonly country: CountryCode;
  /** Company account (Segment `group`), shared with colleagues: not a personal identifier. */
  readonly groupId: string | null;
  readonly profile: BuyerProfile;
  /**
   * Identifiers this person uses but shares with others (super-node scenario). They appear in
   * this person's events yet must not merge this person with the others who use them.
   */
  readonly shared: { readonly anonymousIds: readonly string[]; readonly emails: readonly string[] };
}

export function toPersonTruth(person: Person): PersonTruth {
  return {
    personId: person.personId,
    userId: person.userId,
    anonymousIds: person.devices.map((device) => device.anonymousId),
    emails: [...person.emails],
    phones: person.phone === null ? [] : [person.phone.e164],
    country: person.country.code,
    groupId: person.company?.groupId ?? null,
    profile: person.profile,
    shared: {
      anonymousIds: person.sharedDevice === null ? [] : [person.sharedDevice.anonymousId],
      emails: person.sharedEmail === null ? [] : [person.sharedEmail],
    },
  };
}
