import { ERROR_CATALOGUE } from '../src/errors/error-catalogue.ts';

/** docs/ERRORS.md is generated from the catalogue; test/docs/errors-doc.test.ts keeps them equal. */
export function renderErrorDocs(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(
    ([code, spec]) => `| \`${code}\` | ${spec.status} | ${spec.retryable ? 'yes' : 'no'} | ${spec.title} |`,
  );
  return [
    '# Error codes',
    '',
    'Every error answer has the shape `{"error":{"code":"…","message":"…"}}`; some add details',
    '(for a rejected batch, `rejected: [{index, code, message}]`). Codes are stable: clients may',
    'branch on them. "Retryable" means the same request may succeed later unchanged (a 429 also',
    'carries `Retry-After`).',
    '',
    'Generated from `src/errors/error-catalogue.ts` by `node --import tsx scripts/error-docs.ts`.',
    '',
    '| code | HTTP status | retryable | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1]?.endsWith('error-docs.ts')) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(new URL('../docs/ERRORS.md', import.meta.url), renderErrorDocs());
}
