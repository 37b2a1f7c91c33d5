/** Runs `run` `calls` times one after another (after a warm-up) and prints its wall and CPU time per call. */
export async function perCall(label: string, calls: number, run: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 1000; i++) await run(i); // warm-up
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await run(i);
  const micros = Number(process.hrtime.bigint() - start) / 1000 / calls;
  const { user, system } = process.cpuUsage(cpu);
  console.log(`${label.padEnd(52)} ${micros.toFixed(2)} µs/call, ${((user + system) / calls).toFixed(2)} µs CPU/call`);
}
