import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { resolveAuth } from './development';
import { signToken } from './tokens';

/** `npm run token -- <userId> [--service] [--expires 1h]`: prints a token signed with the service's secret. */
async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { service: { type: 'boolean', default: false }, expires: { type: 'string', default: '1h' } },
  });
  const [userId] = positionals;
  if (positionals.length !== 1 || userId.length < 1 || userId.length > 100) {
    throw new Error('Usage: npm run token -- <userId (1-100 characters)> [--service] [--expires 1h|30m|7d]');
  }
  const auth = await resolveAuth(loadConfig(), join(process.cwd(), '.data'));
  console.log(await signToken(auth, userId, { service: values.service, expiresIn: values.expires }));
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
