const MAX_EMAIL_LENGTH = 254;
// One @, no spaces, a dot in the domain. Linear: the length is capped before matching.
const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;

/**
 * The form an e-mail address is stored and compared in: trimmed and lower-cased (mail systems
 * treat the local part case-insensitively in practice, and people type it both ways). Returns
 * undefined for something that is not an address.
 */
export function normalizeEmail(raw: string): string | undefined {
  const email = raw.trim().toLowerCase();
  if (email.length === 0 || email.length > MAX_EMAIL_LENGTH) return undefined;
  return EMAIL.test(email) ? email : undefined;
}
