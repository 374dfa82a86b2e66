/**
 * Warehouse-style identity stitching, the way dbt id-stitching models and RudderStack's
 * warehouse identity stitching do it: every identifier starts with its own label, then
 * `UPDATE … SET label = min(label of the neighbours)` runs again and again until no label
 * changes. Clusters are the final labels. There are no merge limits: a shared identifier joins
 * everyone who used it. Runs in its own PostgreSQL database; only the iterations are timed.
 */
import pg from 'pg';
import type { IdentityEdges } from './identity-edges.ts';

const LOAD_CHUNK = 50_000;

export interface LabelPropagationResult {
  readonly loadSeconds: number;
  readonly seconds: number;
  /** UPDATE passes, the last one changing nothing. */
  readonly iterations: number;
  readonly nodes: number;
  readonly edges: number;
  /** Node number → cluster label. */
  readonly labels: ReadonlyMap<number, number>;
}

async function load(client: pg.Client, graph: IdentityEdges): Promise<void> {
  await client.query('create table id_nodes (node integer primary key, label integer not null)');
  await client.query('create table id_edges (src integer not null, dst integer not null)');
  const nodes = [...graph.nodes.values()];
  for (let i = 0; i < nodes.length; i += LOAD_CHUNK)
    await client.query('insert into id_nodes (node, label) select n, n from unnest($1::int[]) as n', [
      nodes.slice(i, i + LOAD_CHUNK),
    ]);
  let src: number[] = [];
  let dst: number[] = [];
  const flush = async (): Promise<void> => {
    await client.query('insert into id_edges (src, dst) select * from unnest($1::int[], $2::int[])', [
      src,
      dst,
    ]);
    src = [];
    dst = [];
  };
  for (const [a, b] of graph.edges()) {
    // Both directions: each node takes the minimum over all its neighbours.
    src.push(a, b);
    dst.push(b, a);
    if (src.length >= LOAD_CHUNK) await flush();
  }
  if (src.length > 0) await flush();
  await client.query('create index id_edges_src on id_edges (src, dst)');
  await client.query('analyze id_nodes');
  await client.query('analyze id_edges');
}

export async function labelPropagation(url: string, graph: IdentityEdges): Promise<LabelPropagationResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const loadStarted = performance.now();
    await load(client, graph);
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const started = performance.now();
    let iterations = 0;
    for (;;) {
      iterations += 1;
      const result = await client.query(
        `update id_nodes n set label = m.label
         from (select e.src as node, min(l.label) as label
               from id_edges e join id_nodes l on l.node = e.dst
               group by e.src) m
         where n.node = m.node and m.label < n.label`,
      );
      if (result.rowCount === 0) break;
    }
    const seconds = (performance.now() - started) / 1000;
    const rows = await client.query<[number, number]>({
      text: 'select node, label from id_nodes',
      rowMode: 'array',
    });
    return {
      loadSeconds,
      seconds,
      iterations,
      nodes: graph.nodes.size,
      edges: graph.edgeCount,
      labels: new Map(rows.rows.map(([node, label]) => [node, label])),
    };
  } finally {
    await client.end();
  }
}
