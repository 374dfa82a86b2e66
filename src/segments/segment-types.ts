import type { SegmentDependencies } from '../segment-language/index.ts';

export type BackfillStatus = 'backfilling' | 'ready' | 'failed';

/** Where the last (re)computation over all profiles stands. */
export interface BackfillProgress {
  readonly status: BackfillStatus;
  /** Live person profiles to go through, and how many are done. */
  readonly total: number;
  readonly done: number;
  readonly startedMs: number | null;
  readonly finishedMs: number | null;
  readonly error: string | null;
}

export interface Segment {
  readonly id: string;
  readonly workspaceId: string;
  readonly slug: string;
  readonly name: string;
  readonly description: string;
  /** The definition as written. */
  readonly definition: string;
  readonly dependencies: SegmentDependencies;
  /** Grows with each definition change. */
  readonly version: number;
  readonly createdMs: number;
  readonly updatedMs: number;
  readonly backfill: BackfillProgress;
}

export interface SegmentMember {
  readonly profileId: string;
  readonly enteredMs: number;
}

export type MembershipChange = 'entered' | 'exited';

export interface MembershipHistoryEntry {
  readonly seq: number;
  readonly segmentId: string;
  readonly profileId: string;
  readonly change: MembershipChange;
  readonly atMs: number;
}
