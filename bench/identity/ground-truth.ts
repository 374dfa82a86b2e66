/**
 * Who really sent each logged event, and which events deterministic identity resolution can
 * possibly put together. The generator tells the author of every message; "deterministic" means
 * connected through the author's own identifiers (two events share one, directly or through a
 * chain). A device that never logs in cannot be linked to its owner by any deterministic rule,
 * so recall is measured against these components, not against whole people. Identifiers the
 * super-node scenario shares between people are not personal: events carrying nothing else are
 * ambiguous (nobody can tell who sat at the kiosk) and left out of the pairwise counts.
 */
import { storedIdentifierKey } from '../../src/identity/identifier-types.ts';
import type { Identifier } from '../../src/identity/index.ts';
import { IntUnionFind } from './union-find.ts';

/** A growable column of integers indexed by log sequence number; -1 where unset. */
class SeqColumn {
  #values = new Int32Array(1024).fill(-1);

  set(seq: number, value: number): void {
    if (seq >= this.#values.length) {
      let length = this.#values.length;
      while (length <= seq) length *= 2;
      const grown = new Int32Array(length).fill(-1);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[seq] = value;
  }

  get(seq: number): number {
    return this.#values[seq] ?? -1;
  }
}

export class GroundTruth {
  readonly #shared: ReadonlySet<string>;
  readonly #people = new Map<string, number>();
  readonly #nodes = new Map<string, number>();
  readonly #components = new IntUnionFind();
  readonly #author = new SeqColumn();
  /** A node of one of the event's personal identifiers; its component is the event's. */
  readonly #anchor = new SeqColumn();
  readonly #seqs: number[] = [];

  /** `shared`: stored keys (`type:value`) of identifiers several people use. */
  constructor(shared: ReadonlySet<string>) {
    this.#shared = shared;
  }

  observe(seq: number, personId: string, identifiers: readonly Identifier[]): void {
    let person = this.#people.get(personId);
    if (person === undefined) {
      person = this.#people.size;
      this.#people.set(personId, person);
    }
    this.#author.set(seq, person);
    this.#seqs.push(seq);
    let anchor = -1;
    for (const identifier of identifiers) {
      const key = storedIdentifierKey(identifier);
      if (this.#shared.has(key)) continue;
      let node = this.#nodes.get(key);
      if (node === undefined) {
        node = this.#components.add();
        this.#nodes.set(key, node);
      }
      if (anchor === -1) anchor = node;
      else this.#components.union(anchor, node);
    }
    this.#anchor.set(seq, anchor);
  }

  get seqs(): readonly number[] {
    return this.#seqs;
  }

  get people(): number {
    return this.#people.size;
  }

  /** The author's number, or -1 for a sequence number this truth never saw. */
  personOf(seq: number): number {
    return this.#author.get(seq);
  }

  /** The deterministic component of the event, or -1 if it carries no personal identifier. */
  componentOf(seq: number): number {
    const anchor = this.#anchor.get(seq);
    return anchor === -1 ? -1 : this.#components.find(anchor);
  }
}
