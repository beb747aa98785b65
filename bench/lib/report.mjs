// Each bench returns a Markdown section and its verdicts; bench/run.mjs puts them together.
import { pathToFileURL } from 'node:url'

export function table (header, rows) {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n')
}

/** A target, met or not, in one line. */
export function verdict (target, measured, met, why = '') {
  return { target, measured, met, why }
}

export const progress = (message) => process.stderr.write(`[bench] ${message}\n`)

/** Runs a bench module on its own when it is the entry point: `node bench/<name>.mjs`. */
export async function runIfMain (moduleUrl, run) {
  if (moduleUrl !== pathToFileURL(process.argv[1]).href) return
  const result = await run()
  console.log(result.section)
  console.log(table(['target', 'measured', 'verdict'], result.verdicts.map((v) => [v.target, v.measured, v.met ? 'met' : `missed${v.why ? `: ${v.why}` : ''}`])))
}
