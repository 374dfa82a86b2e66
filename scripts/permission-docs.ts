import { PERMISSIONS, roleCan } from '../src/governance/permissions.ts';
import { ROLES } from '../src/workspaces/workspace-types.ts';

const MEANING: Record<(typeof PERMISSIONS)[number], string> = {
  'workspace.read': 'see the workspace, its sources (never write keys), stats and failed events',
  'workspace.manage': 'change workspace settings',
  'sources.manage': 'create, rename, disable sources; rotate write keys',
  'tokens.read': 'list API tokens (never their secrets)',
  'tokens.manage': 'mint (non-owner) and revoke API tokens',
  'tokens.mint_owner': 'mint owner tokens',
  'users.manage':
    'add console users to the workspace, change their role and PII access, remove them; disable a user who belongs to this workspace only',
  'users.grant_owner': 'give a user the owner role, or change or remove an owner member',
  'events.read_pii':
    'read raw events (they carry personal data), incl. the live stream; per user, grantable and withdrawable whatever the role',
  'pipeline.manage': 'replay failed events',
  'audit.read': 'read the audit log (who did what, when, from where)',
};

/** docs/PERMISSIONS.md is generated from src/governance/permissions.ts; a test keeps them equal. */
export function renderPermissionDocs(): string {
  const header = `| permission | ${ROLES.join(' | ')} | what it allows |`;
  const rule = `|---|${ROLES.map(() => '---').join('|')}|---|`;
  const rows = PERMISSIONS.map(
    (p) => `| \`${p}\` | ${ROLES.map((r) => (roleCan(r, p) ? '✓' : '–')).join(' | ')} | ${MEANING[p]} |`,
  );
  return [
    '# Roles and permissions',
    '',
    'Tokens (and, with the governance issue, console users) hold one role per workspace. The',
    'instance owner (`CDP_ADMIN_TOKEN` or the token printed at first start) may do everything,',
    'including creating workspaces. A token of one workspace gets 404 for every route of another.',
    'Every admin route declares the permission it needs (`config.access`); a route without one',
    'refuses to start, and `test/governance/authorization-matrix.test.ts` checks every route for',
    'every role against this table.',
    '',
    'Generated from `src/governance/permissions.ts` by `node --import tsx scripts/permission-docs.ts`.',
    '',
    header,
    rule,
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1]?.endsWith('permission-docs.ts')) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(new URL('../docs/PERMISSIONS.md', import.meta.url), renderPermissionDocs());
}
