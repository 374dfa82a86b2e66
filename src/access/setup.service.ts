import { AppError } from '../errors/app-error.ts';
import type { AuditService } from '../governance/audit.service.ts';
import type { Clock } from '../shared/clock.ts';
import { generateSecret, hashSecret } from '../shared/secrets.ts';
import type { LoginThrottleRepository, SetupCodeRepository, UserRepository } from './access.port.ts';
import { normalizeEmail } from './email-address.ts';
import { afterFailure, clientNetwork, remainingLockMs, type ThrottleRule } from './login-throttle.ts';
import { checkPassword } from './password-policy.ts';
import {
  tooManyAttempts,
  userActor,
  type ClientInfo,
  type SessionService,
  type SignIn,
} from './session.service.ts';
import type { UserService } from './user.service.ts';

const SETUP_RULE: ThrottleRule = {
  scope: 'ip',
  maxFailures: 10,
  windowMs: 15 * 60_000,
  firstLockoutMs: 15 * 60_000,
  maxLockoutMs: 60 * 60_000,
};

/**
 * The first owner without a default password: while no user exists, each start prints a fresh
 * one-time setup code (192 random bits, stored hashed, replacing any earlier one). Redeeming it
 * creates an instance-owner user and signs them in; the code is consumed atomically, so it
 * works once even with several API processes. Once any user exists (also one made with
 * `cdp user create`), setup is closed.
 */
export class SetupService {
  readonly #users: UserRepository;
  readonly #codes: SetupCodeRepository;
  readonly #throttle: LoginThrottleRepository;
  readonly #userService: UserService;
  readonly #sessions: SessionService;
  readonly #audit: AuditService;
  readonly #clock: Clock;

  constructor(deps: {
    users: UserRepository;
    setupCodes: SetupCodeRepository;
    throttle: LoginThrottleRepository;
    userService: UserService;
    sessions: SessionService;
    audit: AuditService;
    clock: Clock;
  }) {
    this.#users = deps.users;
    this.#codes = deps.setupCodes;
    this.#throttle = deps.throttle;
    this.#userService = deps.userService;
    this.#sessions = deps.sessions;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
  }

  /** A new code to print when no user exists; undefined (and no code kept) otherwise. */
  async issueIfNeeded(): Promise<string | undefined> {
    if (await this.#users.any()) {
      await this.#codes.clear();
      return undefined;
    }
    const code = generateSecret('setup_');
    await this.#codes.put(hashSecret(code));
    return code;
  }

  async needed(): Promise<boolean> {
    return !(await this.#users.any());
  }

  async redeem(
    input: { code: string; email: string; password: string },
    client: ClientInfo,
  ): Promise<SignIn> {
    const key = `setup:ip:${clientNetwork(client.ip)}`;
    const now = this.#clock.now();
    const waitMs = remainingLockMs((await this.#throttle.read([key])).get(key), now);
    if (waitMs > 0) throw tooManyAttempts(waitMs);
    if (await this.#users.any()) throw new AppError('setup.unavailable', 'setup is done: sign in instead');
    // Checked before the code is consumed, so a refused password does not burn it.
    const email = normalizeEmail(input.email);
    if (email === undefined) throw new AppError('user.invalid_email', 'not an e-mail address');
    const verdict = checkPassword(input.password, { email });
    if (!verdict.ok) throw new AppError('user.weak_password', verdict.message, { reason: verdict.problem });
    if (!(await this.#codes.consume(hashSecret(input.code)))) {
      await this.#throttle.update(key, (current) => afterFailure(current, now, SETUP_RULE));
      await this.#audit.record({
        workspaceId: null,
        actor: { kind: 'anonymous', tokenId: null, role: null },
        action: 'auth setup failed',
        target: '{}',
        ip: client.ip,
        details: { kind: 'auth' },
      });
      throw new AppError('setup.invalid_code', 'wrong, replaced or already used setup code');
    }
    const user = await this.#userService.create({ email, password: input.password, instanceOwner: true });
    await this.#audit.record({
      workspaceId: null,
      actor: userActor(user),
      action: 'auth setup code used',
      target: JSON.stringify({ userId: user.id }),
      ip: client.ip,
      details: { kind: 'auth', instanceOwner: true },
    });
    return this.#sessions.startSession(user, client);
  }
}
