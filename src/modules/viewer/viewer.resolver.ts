import { Ctx, Query, Resolver } from 'type-graphql';
import { missingToken } from '../../auth/authenticator';
import type { Viewer } from '../../auth/viewer';
import type { Context } from '../../graphql/context';
import { ViewerType } from './viewer.types';

@Resolver()
export class ViewerResolver {
  @Query(() => ViewerType, { description: 'Who is calling.' })
  viewer(@Ctx() { viewer }: Context): Viewer {
    if (!viewer) throw missingToken(); // only a token-less introspection request has none, and it cannot ask this
    return viewer;
  }
}
