import 'reflect-metadata';
import { emitSchemaDefinitionFile } from 'type-graphql';
import { Metrics } from '../metrics/metrics';
import { createAppPubSub } from '../pubsub/pubsub';
import { createSchema } from './schema';

/** Writes the SDL of the schema the app serves (`npm run schema:emit`; a test fails while the committed one is stale). */
export async function emitSchema(path: string): Promise<void> {
  const metrics = new Metrics();
  await emitSchemaDefinitionFile(path, await createSchema(createAppPubSub(metrics).pubSub, metrics));
  metrics.close();
}

if (require.main === module) {
  emitSchema(process.argv[2] ?? 'schema.graphql').catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
