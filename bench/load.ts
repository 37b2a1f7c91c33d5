/**
 * The load process for W1–W6 and W8: drives one workload against one target with autocannon, checks every answer,
 * and prints one JSON line (a `LoadResult`) on stdout. Started by run.ts, separate from the server under test.
 *
 *   BENCH_AUTH_SECRET=... node dist/bench/load.js --url http://127.0.0.1:4100/graphql --workload W1 --connections 32 --duration 10 --warmup 3 [--pid SERVER_PID]
 */
import autocannon from 'autocannon';
import { parseArgs } from 'node:util';
import { cpuMs } from './clients';
import { checkResponse, type Exchange, Tokens, WORKLOADS, type WorkloadName } from './workloads';

export interface LoadResult {
  workload: WorkloadName;
  requests: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Transport errors, timeouts, and answers that failed their check (non-2xx, `errors`, wrong shape). */
  errors: number;
  errorSamples: string[];
  /** CPU time (user + system) the server process spent per answered request, when its pid is known. */
  serverCpuMsPerRequest?: number;
}

async function drive(url: string, workload: WorkloadName, tokens: Tokens, connections: number, duration: number): Promise<LoadResult> {
  let invalid = 0;
  const errorSamples = new Set<string>();
  const result = await autocannon({
    url,
    connections,
    duration,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request, context) => {
          const exchange = WORKLOADS[workload].next();
          context.exchange = exchange;
          return { ...request, headers: { ...request.headers, authorization: tokens.header(exchange.user) }, body: JSON.stringify(exchange.body) };
        },
        onResponse: (status, body, context) => {
          const problem = checkResponse(context.exchange as Exchange, status, body);
          if (!problem) return;
          invalid += 1;
          if (errorSamples.size < 5) errorSamples.add(problem);
        },
      },
    ],
  });
  return {
    workload,
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + invalid, // autocannon's errors include timeouts; non-2xx answers fail their check
    errorSamples: [...errorSamples],
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      workload: { type: 'string' },
      connections: { type: 'string', default: '32' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      pid: { type: 'string' },
    },
  });
  const workload = values.workload as WorkloadName;
  if (!values.url || !WORKLOADS[workload]) throw new Error('usage: load.js --url URL --workload W1..W6|W8');
  const connections = Number(values.connections);
  const tokens = new Tokens();
  await tokens.prepare(WORKLOADS[workload].users);
  if (Number(values.warmup) > 0) await drive(values.url, workload, tokens, connections, Number(values.warmup));
  const pid = values.pid ? Number(values.pid) : undefined;
  const cpuBefore = pid && cpuMs(pid);
  const result = await drive(values.url, workload, tokens, connections, Number(values.duration));
  if (pid) result.serverCpuMsPerRequest = (cpuMs(pid) - cpuBefore!) / result.requests;
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
