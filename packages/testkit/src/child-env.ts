/**
 * This process's environment for a child that runs Strata (a service, `pnpm start`), without tap's
 * per-process hooks. tap puts `--import …/@tapjs/processinfo/…` in NODE_OPTIONS so that every node
 * process a test starts reports to it for coverage; coverage is off here (.taprc), and the hook made
 * each service start ~0.2 s slower (it wraps module loading), several times per test file.
 */
export function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith('_TAPJS_PROCESSINFO_')) continue;
    env[name] = value;
  }
  const options = (env.NODE_OPTIONS ?? '')
    .split(/\s+/)
    .filter((option) => option !== '' && !option.includes('@tapjs/processinfo'))
    .join(' ');
  if (options === '') delete env.NODE_OPTIONS;
  else env.NODE_OPTIONS = options;
  return env;
}
