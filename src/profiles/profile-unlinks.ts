/**
 * The admin's unlink (unmerge) of an identifier and its undo. Both re-resolve the identifier's
 * component from the log under the workspace's lock, and owe the change to the listeners
 * (consent, computed traits, segments) until they have taken it.
 */
import { AppError } from '../errors/app-error.ts';
import { storedIdentifierKey, type Identifier } from '../identity/identifier-types.ts';
import type { Clock } from '../shared/clock.ts';
import { generateId } from '../shared/secrets.ts';
import { reassignedProfilesOf, reresolveComponents, type ResolveContext } from './profile-resolver.ts';
import type {
  OwedProfileChange,
  ProfileChangeListener,
  ProfileChanges,
  ProfileStateSession,
  ProfileStateStore,
} from './profile-state.port.ts';

export interface UnmergeResult {
  /** The profile the identifier was unlinked from. */
  readonly profileId: string;
  /**
   * Where that id resolves now: itself (the side holding the event that created it), the
   * profile it was folded into, or null when no profile is left (the identifier was the last
   * one of every event it held: those events now belong to no profile).
   */
  readonly resolvesTo: string | null;
  /** The live profiles of the split, sorted; empty when none is left. */
  readonly profiles: readonly string[];
  /** Profiles removed because none of their events has a linkable identifier left. */
  readonly deletedProfiles: readonly string[];
}

export interface RelinkResult {
  readonly identifier: Identifier;
  /** False when no stored profile state held it any more (a rebuild ran since the unlink). */
  readonly reresolved: boolean;
  /** The live profiles of its re-resolved component, sorted. */
  readonly profiles: readonly string[];
}

export interface ProfileUnlinksDeps {
  readonly state: ProfileStateStore;
  readonly clock: Clock;
  readonly listener?: ProfileChangeListener | undefined;
  /** Passes an owed change on to the listener and settles it. */
  readonly deliver: (workspaceId: string, id: string, change: OwedProfileChange) => Promise<void>;
}

type Context = Omit<ResolveContext, 'unlinked'>;

export class ProfileUnlinks {
  readonly #deps: ProfileUnlinksDeps;

  constructor(deps: ProfileUnlinksDeps) {
    this.#deps = deps;
  }

  /**
   * The identifier stops linking anything in the workspace (a shared device, a family e-mail),
   * and its component is re-resolved from the log: the profile splits along the remaining
   * links and every side's traits are recomputed from its own events.
   */
  async unlink(
    workspaceId: string,
    profileId: string,
    identifier: Identifier,
    actor: string,
    ctx: Context,
  ): Promise<UnmergeResult> {
    const key = storedIdentifierKey(identifier);
    const changes = await this.#reresolving(
      workspaceId,
      async (session) => {
        const [row] = await session.identifiersByKey([key]);
        if (row?.profileId !== profileId)
          throw new AppError(
            'profile.identifier_not_linked',
            `this ${identifier.type} is not linked to profile ${profileId}`,
          );
        await session.unlink({ key, ...identifier, profileId, actor });
        return row.componentId;
      },
      ctx,
    );
    const live = new Set(changes.profiles.map((p) => p.id));
    const merged = changes.mergedProfiles.find((m) => m.id === profileId);
    return {
      profileId,
      resolvesTo: live.has(profileId)
        ? profileId
        : (merged?.into ?? (changes.deletedProfiles.includes(profileId) ? null : profileId)),
      profiles: livePersons(changes),
      deletedProfiles: [...changes.deletedProfiles].sort(),
    };
  }

  /**
   * Undoes an unlink: the identifier links again. The component it was unlinked from is
   * re-resolved with it, so the profiles the unlink split merge back. Events no profile holds
   * (those of a profile the unlink deleted, those that carried only this identifier since) are
   * not found without reading the whole log: a rebuild links them; later events link anyway.
   */
  async relink(workspaceId: string, identifier: Identifier, ctx: Context): Promise<RelinkResult> {
    const key = storedIdentifierKey(identifier);
    let reresolved = false;
    const changes = await this.#reresolving(
      workspaceId,
      async (session) => {
        if (!(await session.relink(key)))
          throw new AppError('profile.identifier_not_unlinked', `this ${identifier.type} is not unlinked`);
        const [row] = await session.identifiersByKey([key]);
        reresolved = row !== undefined;
        return row?.componentId;
      },
      ctx,
    );
    return { identifier, reresolved, profiles: livePersons(changes) };
  }

  /** Runs `change` (which names the component to re-resolve), then re-resolves it and owes it. */
  async #reresolving(
    workspaceId: string,
    change: (session: ProfileStateSession) => Promise<string | undefined>,
    ctx: Context,
  ): Promise<Pick<ProfileChanges, 'profiles' | 'mergedProfiles' | 'deletedProfiles'>> {
    const nowMs = this.#deps.clock.now();
    const changeId = generateId('chg');
    let owed: OwedProfileChange | undefined;
    const result = await this.#deps.state.exclusive(workspaceId, nowMs, async (session) => {
      const componentId = await change(session);
      if (componentId === undefined) return undefined;
      const unlinked = await session.unlinkedKeys();
      const changes = await reresolveComponents(session, { ...ctx, unlinked }, workspaceId, [componentId]);
      await session.write(changes);
      // Owed to consent, computed traits and segments until they have taken it: a crash before
      // would leave the split-off person's consent on the profile it was unlinked from.
      owed = {
        nowMs,
        changedProfiles: changes.profiles.map((p) => p.id),
        mergedProfiles: changes.mergedProfiles,
        deletedProfiles: changes.deletedProfiles,
        reassignedProfiles: reassignedProfilesOf(changes),
      };
      if (this.#deps.listener !== undefined) await session.oweChange(changeId, owed);
      return changes;
    });
    if (owed !== undefined) await this.#deps.deliver(workspaceId, changeId, owed);
    return result ?? { profiles: [], mergedProfiles: [], deletedProfiles: [] };
  }
}

function livePersons(changes: Pick<ProfileChanges, 'profiles'>): string[] {
  return changes.profiles
    .filter((p) => p.kind === 'person')
    .map((p) => p.id)
    .sort();
}
