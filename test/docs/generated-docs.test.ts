import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { renderErrorDocs } from '../../scripts/error-docs.ts';

it('docs/ERRORS.md lists exactly the codes of the error catalogue', () => {
  const onDisk = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');
  assert.equal(onDisk, renderErrorDocs(), 'regenerate with: node --import tsx scripts/error-docs.ts');
});

it('docs/PERMISSIONS.md shows exactly the permission matrix', async () => {
  const { renderPermissionDocs } = await import('../../scripts/permission-docs.ts');
  const onDisk = readFileSync(new URL('../../docs/PERMISSIONS.md', import.meta.url), 'utf8');
  assert.equal(
    onDisk,
    renderPermissionDocs(),
    'regenerate with: node --import tsx scripts/permission-docs.ts',
  );
});
