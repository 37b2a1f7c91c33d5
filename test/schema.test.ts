import {
  buildSchema,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
  type GraphQLSchema,
  isInputObjectType,
  isObjectType,
} from 'graphql';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { emitSchema } from '../src/graphql/emit-schema';

const root = join(__dirname, '..');
const read = (path: string) => readFile(join(root, path), 'utf8');

const GENERATED = ['test/generated/graphql.ts', 'web/generated/graphql.ts'];

it('the committed schema.graphql is what the code emits (run `npm run schema:emit`)', async () => {
  const path = join(await mkdtemp(join(tmpdir(), 'parley-schema-')), 'schema.graphql');
  await emitSchema(path);
  expect(await read('schema.graphql')).toBe(await readFile(path, 'utf8'));
});

it(`the committed ${GENERATED.join(' and ')} are what codegen makes from schema.graphql (run \`npm run codegen\`)`, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'parley-codegen-'));
  const fresh = (path: string) => join(dir, path.replaceAll('/', '-'));
  const config = GENERATED.reduce((text, path) => text.replace(`${path}:`, `${fresh(path)}:`), await read('codegen.yml'));
  await writeFile(join(dir, 'codegen.yml'), config);
  await promisify(execFile)(join(root, 'node_modules/.bin/graphql-codegen'), ['--config', join(dir, 'codegen.yml')], { cwd: root });
  for (const path of GENERATED) expect(await read(path)).toBe(await readFile(fresh(path), 'utf8'));
});

describe('the emitted schema satisfies the API contract (test/contract/schema.graphql)', () => {
  let contract: GraphQLSchema;
  let ours: GraphQLSchema;
  beforeAll(async () => {
    contract = buildSchema(await read('test/contract/schema.graphql'));
    ours = buildSchema(await read('schema.graphql'));
  });

  const describeType = (type: GraphQLNamedType | undefined) => {
    if (!type) return undefined;
    const field = (f: GraphQLField<unknown, unknown> | GraphQLInputField) => ({
      type: String(f.type),
      default: 'defaultValue' in f ? f.defaultValue : undefined,
      args: 'args' in f ? Object.fromEntries(f.args.map((a: GraphQLArgument) => [a.name, String(a.type)])) : undefined,
    });
    const fields = isObjectType(type) || isInputObjectType(type) ? Object.values(type.getFields()) : [];
    return { kind: type.constructor.name, fields: Object.fromEntries(fields.map((f) => [f.name, field(f)])) };
  };

  it('has every contract type, field and argument with the same types and nullability', () => {
    for (const type of Object.values(contract.getTypeMap()).filter((t) => !t.name.startsWith('__'))) {
      const expected = describeType(type)!;
      const actual = describeType(ours.getType(type.name));
      expect({ type: type.name, ...actual }).toMatchObject({ type: type.name, ...expected });
    }
  });
});
