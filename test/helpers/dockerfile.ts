import { readFile } from 'node:fs/promises'

export interface Instruction {
  readonly keyword: string
  readonly args: string
}

export interface Stage {
  readonly name: string | null
  readonly from: string
  readonly instructions: readonly Instruction[]
}

/** A Dockerfile as stages of instructions: continuations joined, comments dropped. */
export async function readDockerfile (path: string): Promise<Stage[]> {
  const logical = (await readFile(path, 'utf8')).replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'))
  const stages: Array<{ name: string | null, from: string, instructions: Instruction[] }> = []
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/)
    const args = rest.join(' ')
    if (keyword.toUpperCase() === 'FROM') {
      const [from = '', as, name] = args.split(' ')
      stages.push({ name: as?.toUpperCase() === 'AS' ? name ?? null : null, from, instructions: [] })
    } else {
      stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args })
    }
  }
  return stages
}

export function instructions (stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword)
}

/** `ENV A=1 B=2` lines of a stage, merged. */
export function environment (stage: Stage): Record<string, string> {
  return Object.fromEntries(instructions(stage, 'ENV').flatMap(({ args }) => args.split(/\s+/).map((pair) => pair.split('=', 2) as [string, string])))
}

/** `COPY [--from=x] src... dest` */
export function copyOf (instruction: Instruction): { from: string | null, sources: string[], destination: string } {
  const words = instruction.args.split(/\s+/)
  const flags = words.filter((word) => word.startsWith('--'))
  const paths = words.filter((word) => !word.startsWith('--'))
  const from = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length) ?? null
  return { from, sources: paths.slice(0, -1), destination: paths.at(-1) ?? '' }
}
