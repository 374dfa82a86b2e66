/**
 * One data set through one store: a fresh store, the generator's events appended to its log,
 * the pipeline run to zero lag, then the result scored against the ground truth. The store is
 * kept (its location is returned) so later phases can serve lookups from it or compare clusters.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { resolveShopOptions, type ShopOptions } from '../generate/index.ts';
import { createPostgresStore } from '../../src/storage/postgres/postgres-store.ts';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import type { Store } from '../../src/storage/store.ts';
import { clusterAccuracy, type ClusterAccuracy } from './cluster-accuracy.ts';
import { identifiersOf } from './event-identifiers.ts';
import { GroundTruth } from './ground-truth.ts';
import type { IdentityEdges } from './identity-edges.ts';
import { buildBenchApp, runPipelineToZeroLag, type PipelineTiming } from './pipeline-run.ts';
import { ProfileStateReader, type ProfileStateSummary } from './profile-state-reader.ts';
import { appendShopToLog } from './shop-log.ts';

export type StoreLocation =
  { readonly kind: 'sqlite'; readonly dir: string } | { readonly kind: 'postgres'; readonly url: string };

export interface DataSetRun {
  readonly store: 'SQLite' | 'PostgreSQL';
  readonly people: number;
  readonly events: number;
  readonly appendSeconds: number;
  readonly pipeline: PipelineTiming;
  readonly accuracy: ClusterAccuracy;
  readonly state: ProfileStateSummary;
  readonly workspaceId: string;
  /** Linked identifier (`type:value`) → the profile holding it. */
  readonly owners: ReadonlyMap<string, string>;
  /** What a server process needs to open the same store. */
  readonly serverEnv: Record<string, string>;
}

/** Stored keys of the identifiers the super-node scenario shares between people. */
function sharedKeys(shop: ShopOptions): Set<string> {
  const superNode = resolveShopOptions(shop).superNode;
  if (superNode === null) return new Set();
  return new Set([`${superNode.kind === 'email' ? 'email' : 'anonymous_id'}:${superNode.value}`]);
}

function openStore(location: StoreLocation): Store {
  return location.kind === 'sqlite'
    ? createSqliteStore({ filename: path.join(location.dir, 'cdp.sqlite'), backgroundCheckpoints: true })
    : createPostgresStore({ connectionString: location.url });
}

export async function runDataSet(
  location: StoreLocation,
  shop: ShopOptions,
  edges?: IdentityEdges,
  progress?: (text: string) => void,
): Promise<DataSetRun> {
  // One key for the bench's app and the lookup server: the server refuses another key than
  // the one that sealed the store's secrets.
  const serverEnv: Record<string, string> = {
    ...(location.kind === 'sqlite' ? { CDP_DATA_DIR: location.dir } : { CDP_DATABASE_URL: location.url }),
    CDP_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  };
  const truth = new GroundTruth(sharedKeys(shop));
  const store = openStore(location);
  let measured: Pick<DataSetRun, 'events' | 'appendSeconds' | 'pipeline' | 'workspaceId'>;
  try {
    await store.migrate();
    const { app, workspaceId } = await buildBenchApp(store, serverEnv);
    let appended = 0;
    const logged = await appendShopToLog(store, workspaceId, shop, (seq, personId, event) => {
      if (++appended % 1_000_000 === 0) progress?.(`${appended} events appended to the log`);
      const identifiers = identifiersOf(event);
      truth.observe(seq, personId, identifiers);
      edges?.add(identifiers);
    });
    const pipeline = await runPipelineToZeroLag(app, store, progress);
    measured = { events: logged.events, appendSeconds: logged.appendSeconds, pipeline, workspaceId };
  } finally {
    await store.close();
  }
  const reader = await ProfileStateReader.open(
    location.kind === 'sqlite'
      ? { sqliteFile: path.join(location.dir, 'cdp.sqlite') }
      : { postgresUrl: location.url },
    measured.workspaceId,
    Buffer.from(serverEnv['CDP_ENCRYPTION_KEY'] ?? '', 'hex'),
  );
  try {
    return {
      ...measured,
      store: location.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL',
      people: shop.people,
      serverEnv,
      accuracy: clusterAccuracy(truth, await reader.assignments()),
      state: await reader.summary(),
      owners: await reader.identifierOwners(),
    };
  } finally {
    await reader.close();
  }
}
