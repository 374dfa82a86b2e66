/**
 * The identity graph as a warehouse sees it: one node per identifier (`type:value`), one edge
 * between identifiers that occur in the same event. An event with k identifiers contributes a
 * star of k − 1 edges (connectivity is all that matters); duplicates are dropped, like the
 * `select distinct` that builds the edge table of a dbt id-stitching model.
 */
import { storedIdentifierKey } from '../../src/identity/identifier-types.ts';
import type { Identifier } from '../../src/identity/index.ts';

/** Node numbers stay below 2^26, so an edge packs into one exact double. */
const NODE_LIMIT = 2 ** 26;

export class IdentityEdges {
  readonly #nodes = new Map<string, number>();
  readonly #edges = new Set<number>();

  add(identifiers: readonly Identifier[]): void {
    let first = -1;
    for (const identifier of identifiers) {
      const node = this.#node(storedIdentifierKey(identifier));
      if (first === -1) first = node;
      else if (node !== first) this.#edges.add(Math.min(first, node) * NODE_LIMIT + Math.max(first, node));
    }
  }

  #node(key: string): number {
    let node = this.#nodes.get(key);
    if (node === undefined) {
      node = this.#nodes.size + 1;
      if (node >= NODE_LIMIT) throw new Error('too many identifiers for the edge packing');
      this.#nodes.set(key, node);
    }
    return node;
  }

  /** Identifier key → node number (1-based). */
  get nodes(): ReadonlyMap<string, number> {
    return this.#nodes;
  }

  /** Distinct undirected edges, each once as [smaller, larger]. */
  *edges(): Generator<readonly [number, number]> {
    for (const packed of this.#edges) {
      const a = Math.floor(packed / NODE_LIMIT);
      yield [a, packed - a * NODE_LIMIT];
    }
  }

  get edgeCount(): number {
    return this.#edges.size;
  }
}
