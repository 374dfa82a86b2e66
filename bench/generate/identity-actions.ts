/**
 * The moments a person tells the shop who they are: sign-up, login, newsletter form, guest
 * checkout. Each becomes an `identify` (plus `alias`/`group` around it) with the identifiers
 * typed the sloppy way people type them.
 */
import { noisyEmail } from './email.ts';
import { noisyPhone } from './phone.ts';
import type { JsonObject } from './segment-message.ts';
import type { SessionEmitter } from './session-emitter.ts';

/** What the person's journey remembers across devices and sessions. */
export interface JourneyState {
  /** The CRM account exists: the next login is a login, not a sign-up. */
  signedUp: boolean;
  /** Checkouts started so far: numbers the order ids. */
  checkouts: number;
  orders: number;
  /** Super-node (shared e-mail): the shared address was given at least once. */
  sharedEmailSent: boolean;
}

/** Share of sign-ups where the site also calls `alias(userId)` (older analytics.js setups). */
const ALIAS_ON_SIGN_UP = 0.15;

/** Logs the person in on this device (signing up the first time); no-op without a CRM id. */
export function logIn(emitter: SessionEmitter, state: JourneyState): void {
  const { person } = emitter;
  if (person.userId === null) return;
  const signUp = !state.signedUp;
  if (signUp && emitter.prng.chance(ALIAS_ON_SIGN_UP)) emitter.alias(person.userId);
  const traits = signUp ? signUpTraits(emitter, state) : loginTraits(emitter, state);
  emitter.identify(traits, person.userId);
  state.signedUp = true;
  if (person.company !== null && !emitter.memory.grouped) {
    const { company } = person;
    emitter.group(company.groupId, {
      name: company.name,
      industry: company.industry,
      employees: company.employees,
      plan: company.plan,
      website: `https://www.${company.domain}`,
    });
    emitter.memory.grouped = true;
  }
}

/** A newsletter form: an identify with an e-mail and no userId. Returns false without e-mail. */
export function subscribe(emitter: SessionEmitter, state: JourneyState): boolean {
  const email = chooseEmail(emitter, state);
  if (email === null) return false;
  emitter.identify({ email: noisyEmail(email, emitter.prng) }, null);
  emitter.memory.emailSent = true;
  return true;
}

/** Contact details typed at a guest checkout. Returns false if the person has no e-mail. */
export function guestCheckout(emitter: SessionEmitter, state: JourneyState): boolean {
  const email = chooseEmail(emitter, state);
  if (email === null) return false;
  const { person, prng } = emitter;
  const traits: JsonObject = {
    email: noisyEmail(email, prng),
    firstName: person.firstName,
    lastName: person.lastName,
  };
  if (person.phone !== null && prng.chance(0.7)) traits.phone = noisyPhone(person.phone, prng);
  emitter.identify(traits, null);
  emitter.memory.emailSent = true;
  return true;
}

function signUpTraits(emitter: SessionEmitter, state: JourneyState): JsonObject {
  const { person, prng } = emitter;
  const traits: JsonObject = {};
  const email = chooseEmail(emitter, state);
  if (email !== null) traits.email = noisyEmail(email, prng);
  if (person.phone !== null) traits.phone = noisyPhone(person.phone, prng);
  traits.firstName = person.firstName;
  traits.lastName = person.lastName;
  traits.plan = person.plan;
  traits.createdAt = new Date(emitter.time).toISOString();
  traits.address = { city: person.city, country: person.country.code };
  if (person.company !== null) traits.company = { id: person.company.groupId, name: person.company.name };
  return traits;
}

function loginTraits(emitter: SessionEmitter, state: JourneyState): JsonObject {
  const { person, prng } = emitter;
  const traits: JsonObject = {};
  const email = prng.chance(0.6) || person.sharedEmail !== null ? chooseEmail(emitter, state) : null;
  if (email !== null) traits.email = noisyEmail(email, prng);
  if (person.phone !== null && prng.chance(0.3)) traits.phone = noisyPhone(person.phone, prng);
  if (prng.chance(0.2)) {
    traits.firstName = person.firstName;
    traits.lastName = person.lastName;
  }
  if (prng.chance(0.5)) traits.plan = person.plan;
  if (person.accountCreatedAt !== null && prng.chance(0.3)) {
    traits.createdAt = new Date(person.accountCreatedAt).toISOString();
  }
  return traits;
}

/**
 * Which address the person gives: the shared one first (super-node members), else usually the
 * main one and sometimes the second.
 */
function chooseEmail(emitter: SessionEmitter, state: JourneyState): string | null {
  const { person, prng } = emitter;
  if (person.sharedEmail !== null && (!state.sharedEmailSent || prng.chance(0.3))) {
    state.sharedEmailSent = true;
    return person.sharedEmail;
  }
  const [main, second] = person.emails;
  if (second !== undefined && prng.chance(0.3)) return second;
  return main ?? null;
}
