/**
 * What a password must be (NIST SP 800-63B, OWASP): long enough, not absurdly long, and not
 * obviously guessable. No composition rules (they make passwords worse, not stronger).
 * Expected outcomes are returned values; the services turn a refusal into an error.
 */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;

export type PasswordProblem = 'too_short' | 'too_long' | 'too_common' | 'too_simple' | 'contains_email';

export type PasswordVerdict =
  { readonly ok: true } | { readonly ok: false; readonly problem: PasswordProblem; readonly message: string };

/** The same text typed on different devices compares equal (NIST: normalize Unicode). */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

// Words that top every breached-password list; a password that is one of them plus digits or
// symbols around it ("Password2024!", "Welcome123456") is refused.
const COMMON_WORDS = new Set([
  'password',
  'passw0rd',
  'p@ssw0rd',
  'p@ssword',
  'qwerty',
  'qwertz',
  'azerty',
  'letmein',
  'welcome',
  'admin',
  'administrator',
  'changeme',
  'iloveyou',
  'monkey',
  'dragon',
  'football',
  'baseball',
  'sunshine',
  'princess',
  'superman',
  'starwars',
  'master',
  'secret',
  'trustno1',
  'whatever',
  'computer',
  'internet',
  'default',
  'login',
  'test',
  'guest',
  'root',
  'user',
  'cdp',
  'correcthorsebatterystaple',
]);

// Keyboard rows and the alphabet, forwards and backwards: any run taken from them is refused.
const SEQUENCES = [
  'abcdefghijklmnopqrstuvwxyz',
  '01234567890123456789',
  'qwertyuiopasdfghjklzxcvbnm',
  'qwertzuiopasdfghjklyxcvbnm',
  'azertyuiopqsdfghjklmwxcvbn',
  '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p',
  'zaq12wsxcde34rfvbgt56yhnmju78ik9ol0p',
];
const ALL_SEQUENCES = [...SEQUENCES, ...SEQUENCES.map((s) => [...s].reverse().join(''))];

const codePoints = (text: string): number => [...text].length;

function isSequence(lower: string): boolean {
  return ALL_SEQUENCES.some((sequence) => sequence.includes(lower));
}

/** Repeats of a short unit: "abcabcabcabc", "121212121212", "aaaaaaaaaaaa". */
function isRepetition(lower: string): boolean {
  for (let unit = 1; unit <= 4; unit++) {
    // A trailing partial unit still counts ("abcabcabcab").
    const head = lower.slice(0, unit);
    if (lower.length >= unit * 3 && head.repeat(Math.ceil(lower.length / unit)).startsWith(lower))
      return true;
  }
  return false;
}

export function checkPassword(password: string, context: { email?: string } = {}): PasswordVerdict {
  const normalized = normalizePassword(password);
  const length = codePoints(normalized);
  if (length < PASSWORD_MIN_LENGTH)
    return {
      ok: false,
      problem: 'too_short',
      message: `the password must have at least ${PASSWORD_MIN_LENGTH} characters (a few words make a good one)`,
    };
  if (length > PASSWORD_MAX_LENGTH)
    return {
      ok: false,
      problem: 'too_long',
      message: `the password must have at most ${PASSWORD_MAX_LENGTH} characters`,
    };
  const lower = normalized.toLowerCase();
  const core = lower.replace(/^[\d\W_]+|[\d\W_]+$/gu, '');
  if (COMMON_WORDS.has(lower) || COMMON_WORDS.has(core) || [...COMMON_WORDS].some((w) => core === w + w))
    return { ok: false, problem: 'too_common', message: 'this password is among the most common ones' };
  if (
    new Set(lower).size < 5 ||
    isRepetition(lower) ||
    isSequence(lower) ||
    (core.length >= 6 && isSequence(core))
  )
    return {
      ok: false,
      problem: 'too_simple',
      message: 'this password is too simple (repeated or sequential characters)',
    };
  const email = context.email?.toLowerCase();
  const local = email?.split('@')[0] ?? '';
  if (email !== undefined && (lower.includes(email) || (local.length >= 4 && lower.includes(local))))
    return {
      ok: false,
      problem: 'contains_email',
      message: 'the password must not contain the e-mail address',
    };
  return { ok: true };
}
