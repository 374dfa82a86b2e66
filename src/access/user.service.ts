import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../shared/clock.ts';
import { generateId } from '../shared/secrets.ts';
import type { Page } from '../workspaces/workspaces.port.ts';
import { isRole, type WorkspaceGrant } from '../workspaces/workspace-types.ts';
import type {
  MembershipRepository,
  PasswordHasher,
  SessionRepository,
  UserRepository,
} from './access.port.ts';
import { normalizeEmail } from './email-address.ts';
import { checkPassword, normalizePassword } from './password-policy.ts';
import { piiOverrideOf, type Membership, type PiiAccess, type User } from './user-types.ts';

/** A user as a member of one workspace. */
export interface Member {
  readonly user: User;
  readonly membership: Membership;
}

export interface NewMember {
  readonly email: string;
  readonly role: string;
  readonly pii?: PiiAccess | undefined;
  /** Required for a new user; must be absent to add an existing user. */
  readonly password?: string | undefined;
}

export interface MemberChanges {
  readonly role?: string | undefined;
  readonly pii?: PiiAccess | undefined;
  readonly disabled?: boolean | undefined;
}

/**
 * Console users and their memberships. Disabling a user, removing a membership or changing a
 * password ends the user's sessions at once; role and PII changes apply from the next request
 * (every request reads the memberships afresh).
 */
export class UserService {
  readonly #users: UserRepository;
  readonly #memberships: MembershipRepository;
  readonly #sessions: SessionRepository;
  readonly #hasher: PasswordHasher;
  readonly #clock: Clock;

  constructor(deps: {
    users: UserRepository;
    memberships: MembershipRepository;
    sessions: SessionRepository;
    hasher: PasswordHasher;
    clock: Clock;
  }) {
    this.#users = deps.users;
    this.#memberships = deps.memberships;
    this.#sessions = deps.sessions;
    this.#hasher = deps.hasher;
    this.#clock = deps.clock;
  }

  async create(input: { email: string; password: string; instanceOwner?: boolean }): Promise<User> {
    const email = requireEmail(input.email);
    const passwordHash = await this.hashNewPassword(input.password, email);
    const now = this.#clock.now();
    const user: User = {
      id: generateId('usr'),
      email,
      instanceOwner: input.instanceOwner === true,
      createdMs: now,
      updatedMs: now,
      disabledMs: null,
      lastLoginMs: null,
    };
    if (!(await this.#users.create(user, passwordHash)))
      throw new AppError('user.email_taken', `a user with the e-mail address ${email} exists already`);
    return user;
  }

  /** Checks the policy and hashes; the one way a password reaches the store. */
  async hashNewPassword(password: string, email: string): Promise<string> {
    const verdict = checkPassword(password, { email });
    if (!verdict.ok) throw new AppError('user.weak_password', verdict.message, { reason: verdict.problem });
    return this.#hasher.hash(normalizePassword(password));
  }

  async get(id: string): Promise<User> {
    const user = await this.#users.find(id);
    if (!user) throw new AppError('user.not_found', `no user "${id}"`);
    return user;
  }

  /** By id or e-mail address (for the command line). */
  async find(idOrEmail: string): Promise<User> {
    const email = normalizeEmail(idOrEmail);
    const found =
      email === undefined ? await this.#users.find(idOrEmail) : (await this.#users.findByEmail(email))?.user;
    if (!found) throw new AppError('user.not_found', `no user "${idOrEmail}"`);
    return found;
  }

  list(page: Page): Promise<User[]> {
    return this.#users.list(page);
  }

  membershipsOf(userIds: readonly string[]): Promise<Membership[]> {
    return this.#memberships.listForUsers(userIds);
  }

  /** Instance-level changes (instance owner only). */
  async update(
    id: string,
    changes: {
      disabled?: boolean | undefined;
      instanceOwner?: boolean | undefined;
      password?: string | undefined;
    },
  ): Promise<User> {
    const user = await this.get(id);
    const now = this.#clock.now();
    const passwordHash =
      changes.password === undefined ? undefined : await this.hashNewPassword(changes.password, user.email);
    await this.#users.update(id, {
      updatedMs: now,
      ...(changes.disabled === undefined
        ? {}
        : { disabledMs: changes.disabled ? (user.disabledMs ?? now) : null }),
      ...(changes.instanceOwner === undefined ? {} : { instanceOwner: changes.instanceOwner }),
      ...(passwordHash === undefined ? {} : { passwordHash }),
    });
    if (changes.disabled === true || passwordHash !== undefined) await this.#sessions.deleteForUser(id);
    return this.get(id);
  }

  async addMember(workspaceId: string, input: NewMember): Promise<Member> {
    const role = requireRole(input.role);
    const email = requireEmail(input.email);
    const existing = (await this.#users.findByEmail(email))?.user;
    if (existing && input.password !== undefined)
      throw new AppError(
        'user.email_taken',
        `a user with the e-mail address ${email} exists already: leave the password out to add them to this workspace`,
      );
    if (!existing && input.password === undefined)
      throw new AppError('user.password_required', 'a new user needs an initial password');
    const user = existing ?? (await this.create({ email, password: input.password ?? '' }));
    const now = this.#clock.now();
    const membership: Membership = {
      userId: user.id,
      workspaceId,
      role,
      pii: piiOverrideOf(input.pii ?? 'role'),
      createdMs: now,
      updatedMs: now,
    };
    if (!(await this.#memberships.add(membership)))
      throw new AppError('user.already_member', `${email} is a member of this workspace already`);
    return { user, membership };
  }

  async getMember(workspaceId: string, userId: string): Promise<Member> {
    const membership = await this.#memberships.find(userId, workspaceId);
    const user = membership ? await this.#users.find(userId) : undefined;
    if (!membership || !user) throw new AppError('user.not_found', `no user "${userId}" in this workspace`);
    return { user, membership };
  }

  listMembers(workspaceId: string, page: Page): Promise<Member[]> {
    return this.#memberships.listForWorkspace(workspaceId, page);
  }

  /**
   * Changes a membership. `disabled` disables the user everywhere, so a workspace may do it
   * only to a user who belongs to it alone (and is no instance owner); `mayDisableAnyone` is
   * the instance owner's licence.
   */
  async updateMember(
    workspaceId: string,
    userId: string,
    changes: MemberChanges,
    options: { mayDisableAnyone: boolean },
  ): Promise<Member> {
    const { user } = await this.getMember(workspaceId, userId);
    const role = changes.role === undefined ? undefined : requireRole(changes.role);
    if (changes.disabled !== undefined && !options.mayDisableAnyone) {
      const all = await this.#memberships.listForUser(userId);
      if (user.instanceOwner || all.some((m) => m.workspaceId !== workspaceId))
        throw new AppError(
          'auth.forbidden',
          'this user belongs to other workspaces too: remove their membership here instead (only the instance owner disables them)',
        );
    }
    const now = this.#clock.now();
    if (role !== undefined || changes.pii !== undefined)
      await this.#memberships.update(userId, workspaceId, {
        updatedMs: now,
        ...(role === undefined ? {} : { role }),
        ...(changes.pii === undefined ? {} : { pii: piiOverrideOf(changes.pii) }),
      });
    if (changes.disabled !== undefined) await this.update(userId, { disabled: changes.disabled });
    return this.getMember(workspaceId, userId);
  }

  /** Removes the membership and ends every session of the user at once. */
  async removeMember(workspaceId: string, userId: string): Promise<void> {
    if (!(await this.#memberships.remove(userId, workspaceId)))
      throw new AppError('user.not_found', `no user "${userId}" in this workspace`);
    await this.#sessions.deleteForUser(userId);
  }

  async grantsOf(userId: string): Promise<WorkspaceGrant[]> {
    return (await this.#memberships.listForUser(userId)).map((m) => ({
      workspaceId: m.workspaceId,
      role: m.role,
      pii: m.pii,
    }));
  }
}

function requireEmail(raw: string): string {
  const email = normalizeEmail(raw);
  if (email === undefined)
    throw new AppError('user.invalid_email', `"${raw.slice(0, 100)}" is not an e-mail address`);
  return email;
}

function requireRole(raw: string): Membership['role'] {
  if (!isRole(raw))
    throw new AppError(
      'user.invalid_role',
      `unknown role "${raw}"; one of owner, admin, marketer, analyst, viewer`,
    );
  return raw;
}
