import { AppError } from '../errors/app-error.ts';

/** Names people give workspaces, sources and tokens: trimmed, 1–200 characters. */
export function requireDisplayName(raw: string): string {
  const name = raw.trim();
  if (name === '' || name.length > 200)
    throw new AppError('request.invalid_body', 'name must be 1–200 characters');
  return name;
}
