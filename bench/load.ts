/**
 * The load process for W1–W6: drives one workload against one target with autocannon, checks every answer,
 * and prints one JSON line (a `LoadResult`) on stdout. Started by run.ts, separate from the server under test.
 *
 *   node dist/bench/load.js --url http://127.0.0.1:4100/graphql --workload W1 --connections 32 --duration 10 --warmup 3 [--pid SERVER_PID]
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchAuthorization } from './auth';
import { checkResponse, type Exchange, WORKLOADS, type WorkloadName } from './workloads';

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

/** User + system CPU time of a process so far, in ms (Linux: /proc/<pid>/stat, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function drive(url: string, workload: WorkloadName, connections: number, duration: number, authorization: string): Promise<LoadResult> {
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
        headers: { 'content-type': 'application/json', authorization },
        setupRequest: (request, context) => {
          const exchange = WORKLOADS[workload].next();
          context.exchange = exchange;
          return { ...request, body: JSON.stringify(exchange.body) };
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
  if (!values.url || !WORKLOADS[workload]) throw new Error('usage: load.js --url URL --workload W1..W6');
  const connections = Number(values.connections);
  const authorization = await benchAuthorization();
  if (Number(values.warmup) > 0) await drive(values.url, workload, connections, Number(values.warmup), authorization);
  const pid = values.pid ? Number(values.pid) : undefined;
  const cpuBefore = pid && cpuMs(pid);
  const result = await drive(values.url, workload, connections, Number(values.duration), authorization);
  if (pid) result.serverCpuMsPerRequest = (cpuMs(pid) - cpuBefore!) / result.requests;
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
