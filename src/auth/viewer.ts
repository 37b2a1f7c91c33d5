/** Who is calling, from the bearer token: `sub` is the user id; the claim `"role": "service"` makes a trusted backend. */
export interface Viewer {
  readonly userId: string;
  readonly service: boolean;
}
