/** Who is calling, from the bearer token: a user (`sub`), or a trusted backend service (claim role = "service"). */
export interface Viewer {
  readonly userId: string;
  readonly service: boolean;
}
