/** Union-find over dense integer nodes (path halving, union by size): near-constant per call. */
export class IntUnionFind {
  #parent = new Int32Array(1024);
  #size = new Int32Array(1024);
  #count = 0;

  /** Adds a node and returns its number. */
  add(): number {
    if (this.#count === this.#parent.length) {
      const parent = new Int32Array(this.#parent.length * 2);
      parent.set(this.#parent);
      const size = new Int32Array(this.#size.length * 2);
      size.set(this.#size);
      this.#parent = parent;
      this.#size = size;
    }
    const node = this.#count++;
    this.#parent[node] = node;
    this.#size[node] = 1;
    return node;
  }

  find(node: number): number {
    const parent = this.#parent;
    let current = node;
    while (parent[current] !== current) {
      const grand = parent[parent[current] as number] as number;
      parent[current] = grand;
      current = grand;
    }
    return current;
  }

  union(a: number, b: number): void {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return;
    if ((this.#size[ra] as number) < (this.#size[rb] as number)) [ra, rb] = [rb, ra];
    this.#parent[rb] = ra;
    this.#size[ra] = (this.#size[ra] as number) + (this.#size[rb] as number);
  }
}
