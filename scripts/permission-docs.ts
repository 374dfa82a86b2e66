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
    'see personal data unmasked: raw events and the live stream, profile identities, PII traits (every such read is audited); per user, grantable and withdrawable whatever the role',
  'pipeline.manage': 'replay failed events',
  'audit.read': 'read the audit log (who did what, when, from where)',
  'identity.manage':
    'identity and profile settings, unmerge (unlink an identifier), rebuild profiles from the log',
  'privacy.manage':
    "privacy requests (export, erase, suppress, unsuppress) and their export documents; set a profile's consent; consent and retention settings",
  'segments.read':
    'see segments, their size, members (profile ids) and history, computed traits; preview definitions',
  'segments.manage': 'create, change and delete segments and computed traits (which recomputes them)',
  'destinations.read':
    'see destinations (never their signing secret), their delivery counts and deliveries (log positions, statuses, errors: no event data)',
  'destinations.manage':
    'create, change, disable and delete destinations; retry failed deliveries; send a test event',
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
    'API tokens and console users hold a role per workspace (a token one workspace, a user a role',
    'in each workspace they are a member of). The instance owner (`CDP_ADMIN_TOKEN`, the token',
    'printed at first start, or an instance-owner user: the first owner, created with the setup',
    'code or `cdp user create --role owner`) may do everything, including creating workspaces and',
    'managing users instance-wide (`/api/v1/users`). A token or user of one workspace gets 404 for',
    'every route of another.',
    '',
    'PII access (`events.read_pii`) is a permission of its own: besides what the role gives, it can',
    'be granted to or withdrawn from one user in one workspace (`piiAccess`: `role`, `grant`,',
    '`withdraw`). Giving the owner role, or changing or removing an owner member, needs',
    '`users.grant_owner`, just as minting an owner token needs `tokens.mint_owner`.',
    'Without PII access, the profile search refuses conditions on personal values (an e-mail or',
    'phone identifier prefix, `traits.<pii>=`) with 403 `auth.forbidden`, and a prefix search',
    'without a type skips e-mail and phone identifiers: masked results would still tell whether an',
    'address exists, and a prefix search would spell it out. For the same reason a segment preview',
    'with conditions on personal values needs PII access: personal traits of the profile or its',
    'accounts (`traits.email starts_with "a"`, `group.<pii>`), event properties named like a personal',
    'trait inside `did … where (…)` (`properties.email`, `context.traits.email`, `context.ip`), and',
    'computed traits whose property or `where` reads one (a `last_value` of `properties.email`, an',
    '`event_count` of events whose `properties.email` starts with "a"). Saved segments (made by',
    'someone with PII access) can still be read and their members listed, masked. On a profile,',
    'computed traits that show the values of such a property (`first_value`, `last_value`,',
    '`most_frequent`, `distinct_values` of `properties.email`) are masked like the trait itself.',
    '',
    'Every admin route declares the permission it needs (`config.access`), and one hook',
    '(`src/http/admin-auth.ts`) checks it for tokens and session users alike; a route without a',
    'declaration refuses to start, and `test/governance/authorization-matrix.test.ts` checks every',
    'route for every role, as a token and as a signed-in user, against this table. Sessions,',
    'cookies and CSRF: [SECURITY.md](SECURITY.md).',
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
