/**
 * The environment for another program a test runs (npm, a linter): the test's own, without
 * tap's hooks. tap loads its process recorder into every Node.js process below a test through
 * NODE_OPTIONS, and that recorder's coverage of a program that is not this project's is work
 * thrown away at the end.
 */
export function toolEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  for (const name of Object.keys(env)) if (name.startsWith('_TAPJS_PROCESSINFO_')) delete env[name]
  const options = (env.NODE_OPTIONS ?? '').split(/\s+/).filter((option) => option !== '' && !option.includes('@tapjs/processinfo'))
  if (options.length > 0) env.NODE_OPTIONS = options.join(' ')
  else delete env.NODE_OPTIONS
  return env
}
