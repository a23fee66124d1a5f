/**
 * Measures the load generator's own CPU while a phase runs: on a 2-core machine the generator
 * competes with the system under test, so its share must be visible next to every number.
 * Returned as a percentage of one core.
 */
export async function withGeneratorCpu<T>(work: () => Promise<T>): Promise<{ result: T; generatorCpuPercent: number }> {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const result = await work();
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - wallBefore;
  const generatorCpuPercent = Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10;
  return { result, generatorCpuPercent };
}
