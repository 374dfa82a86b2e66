import type { AuditService } from '../governance/audit.service.ts';
import type { Clock } from '../shared/clock.ts';
import type {
  LoginThrottleRepository,
  MembershipRepository,
  PasswordHasher,
  SessionRepository,
  SetupCodeRepository,
  UserRepository,
} from './access.port.ts';
import { SessionService } from './session.service.ts';
import type { SessionLifetime } from './session-policy.ts';
import { SetupService } from './setup.service.ts';
import { UserService } from './user.service.ts';

/** The repositories the console-user services need (a Store has them all). */
export interface AccessRepositories {
  readonly users: UserRepository;
  readonly memberships: MembershipRepository;
  readonly sessions: SessionRepository;
  readonly loginThrottle: LoginThrottleRepository;
  readonly setupCodes: SetupCodeRepository;
}

/** Wires users, sessions and setup over one set of repositories (server and CLI alike). */
export function createAccessServices(deps: {
  store: AccessRepositories;
  audit: AuditService;
  clock: Clock;
  hasher: PasswordHasher;
  lifetime: SessionLifetime;
}): { users: UserService; sessions: SessionService; setup: SetupService } {
  const { store, audit, clock, hasher } = deps;
  const users = new UserService({
    users: store.users,
    memberships: store.memberships,
    sessions: store.sessions,
    hasher,
    clock,
  });
  const sessions = new SessionService({
    users: store.users,
    memberships: store.memberships,
    sessions: store.sessions,
    throttle: store.loginThrottle,
    hasher,
    userService: users,
    audit,
    clock,
    lifetime: deps.lifetime,
  });
  const setup = new SetupService({
    users: store.users,
    setupCodes: store.setupCodes,
    throttle: store.loginThrottle,
    userService: users,
    sessions,
    audit,
    clock,
  });
  return { users, sessions, setup };
}
