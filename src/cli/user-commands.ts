import { Option, type Command } from 'commander';
import { PII_ACCESS, type PiiAccess } from '../access/user-types.ts';
import { presentUser } from '../http/presenters.ts';
import { ROLES } from '../workspaces/workspace-types.ts';
import { show, withCli, type CliIo } from './cli-io.ts';

/** The password of `cdp user create`: piped on stdin, or typed twice at a hidden prompt. */
async function readNewPassword(io: CliIo, fromStdin: boolean): Promise<string> {
  if (fromStdin) return io.readStdin();
  const first = await io.promptHidden('Password (at least 12 characters): ');
  if (first === undefined)
    throw new Error('no terminal to ask for the password: pipe it in with --password-stdin');
  const again = await io.promptHidden('Repeat the password: ');
  if (again !== first) throw new Error('the two passwords differ');
  return first;
}

/** `cdp user …`: console users from the command line (recorded in the audit log as `cli`). */
export function addUserCommands(program: Command, io: CliIo): void {
  const user = program.command('user').description('manage console users');

  user
    .command('create')
    .description(
      'create a console user; --role owner without --workspace makes an instance owner (the first owner). The password is read from stdin (--password-stdin) or a hidden prompt, never from the command line',
    )
    .requiredOption('--email <email>', 'e-mail address (the sign-in name)')
    .addOption(new Option('--role <role>', 'role in the workspace').choices([...ROLES]).makeOptionMandatory())
    .option('--workspace <workspace>', 'workspace (slug or id) to make them a member of')
    .addOption(
      new Option('--pii <access>', 'PII access beyond the role (with --workspace)').choices([...PII_ACCESS]),
    )
    .option('--password-stdin', 'read the password from stdin (e.g. from a secrets manager)')
    .option('--json', 'print JSON')
    .action(
      async (options: {
        email: string;
        role: string;
        workspace?: string;
        pii?: PiiAccess;
        passwordStdin?: boolean;
        json?: boolean;
      }) => {
        if (options.workspace === undefined && options.role !== 'owner')
          throw new Error('--role other than owner needs --workspace (an instance-wide user is an owner)');
        const password = await readNewPassword(io, options.passwordStdin === true);
        await withCli(io.env, async ({ workspaces, users, auditChange }) => {
          const target =
            options.workspace === undefined ? undefined : await workspaces.get(options.workspace);
          const created = target
            ? (
                await users.addMember(target.id, {
                  email: options.email,
                  role: options.role,
                  pii: options.pii,
                  password,
                })
              ).user
            : await users.create({ email: options.email, password, instanceOwner: true });
          await auditChange('user create', target?.id ?? null, {
            userId: created.id,
            role: options.role,
            ...(target ? { ws: target.slug } : { instanceOwner: 'true' }),
          });
          show(
            io,
            options.json === true,
            presentUser(created, await users.membershipsOf([created.id])),
            `created user ${created.email} (${created.id}): ${
              target ? `${options.role} of ${target.slug}` : 'instance owner'
            }`,
          );
        });
      },
    );

  user
    .command('list')
    .description('list console users with their memberships')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) =>
      withCli(io.env, async ({ users }) => {
        const all = await users.list({ limit: 10_000 });
        const memberships = await users.membershipsOf(all.map((u) => u.id));
        const shown = all.map((u) => presentUser(u, memberships));
        io.out(
          options.json === true
            ? JSON.stringify(shown, null, 2)
            : shown.length === 0
              ? 'no users'
              : shown
                  .map((u) =>
                    [
                      u.id,
                      u.email,
                      u.instanceOwner
                        ? 'instance owner'
                        : u.memberships.map((m) => `${m.workspaceId}:${m.role}`).join(','),
                      u.disabled ? 'disabled' : 'enabled',
                    ].join('\t'),
                  )
                  .join('\n'),
        );
      }),
    );

  user
    .command('disable <user>')
    .description('disable a user (id or e-mail address): they cannot sign in, and their sessions end at once')
    .action(async (who: string) =>
      withCli(io.env, async ({ users, auditChange }) => {
        const found = await users.find(who);
        await users.update(found.id, { disabled: true });
        await auditChange('user disable', null, { userId: found.id });
        io.out(`disabled ${found.email} (${found.id}); their sessions have ended`);
      }),
    );
}
