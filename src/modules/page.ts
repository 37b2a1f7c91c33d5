/** A page of nodes with their cursors, as the services answer `messages` and `myChats` (Relay's connection shape). */
export interface Page<T> {
  readonly edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/**
 * The edges are built when a query reads them: most select `nodes` and `pageInfo`, and a cursor for each of 50 nodes
 * costs about 40 µs (bench/README.md).
 */
export function pageOf<T>(nodes: T[], cursorOf: (node: T) => string, more: { hasNextPage: boolean; hasPreviousPage: boolean }): Page<T> {
  const [first, last] = [nodes.at(0), nodes.at(-1)];
  return {
    get edges() {
      return nodes.map((node) => ({ cursor: cursorOf(node), node }));
    },
    nodes,
    pageInfo: { ...more, startCursor: first === undefined ? null : cursorOf(first), endCursor: last === undefined ? null : cursorOf(last) },
  };
}
