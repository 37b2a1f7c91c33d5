/** A page of nodes with their cursors, as the services answer `messages` and `myChats` (Relay's connection shape). */
export interface Page<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

export function pageOf<T>(nodes: T[], cursorOf: (node: T) => string, more: { hasNextPage: boolean; hasPreviousPage: boolean }): Page<T> {
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
  return { edges, nodes, pageInfo: { ...more, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null } };
}
