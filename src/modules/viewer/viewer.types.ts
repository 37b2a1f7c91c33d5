import { Field, ID, ObjectType } from 'type-graphql';
import type { Viewer } from '../../auth/viewer';

@ObjectType('Viewer', { description: 'Who is calling, from the bearer token.' })
export class ViewerType implements Viewer {
  @Field(() => ID, { description: "The token's `sub`." })
  userId!: string;

  @Field({ description: 'True for a service token (claim role = "service").' })
  service!: boolean;
}
