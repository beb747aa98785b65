import { setTimeout as sleep } from 'node:timers/promises'
import type { Rollout, RolloutAction, RolloutBody, SchemaApi } from './api.js'
import type { VerbContext, VerbOutput } from './commands.js'
import { rolloutCounts, rolloutHeader, rolloutTable, rolloutTargetLine } from './fleet-format.js'
import type { Progress } from './progress.js'
import { UsageError } from './usage.js'

const actions: readonly RolloutAction[] = ['pause', 'resume', 'cancel', 'retry']
const finished: ReadonlyArray<Rollout['status']> = ['succeeded', 'failed', 'cancelled']
const pollMs = 500

/** `aip-schema rollout …`: an adapter over `/rollouts`; the service plans, schedules and promotes. */
export async function rolloutVerb ({ api, positionals, values, note, progress, remote }: VerbContext): Promise<VerbOutput> {
  if (!remote) throw new UsageError('rollout: rollouts run in the service, whose replicas work their queue: give the running service with --url <url> (token from AIP_SCHEMA_TOKEN)')
  const [first, id, target] = positionals
  if (first === 'status') return shown(await (await api()).rollout(required(id, 'status <id>')))
  if (first === 'skip') return shown(await (await api()).skipRolloutTarget(required(id, 'skip <id> <target>'), required(target, 'skip <id> <target>')))
  if (actions.includes(first as RolloutAction)) return shown(await (await api()).rolloutAction(required(id, `${first ?? ''} <id>`), first as RolloutAction))
  if (positionals.length > 1) throw new UsageError(`rollout: '${positionals.join(' ')}' is not a rollout command (status, pause, resume, cancel, retry <id>; skip <id> <target>; or a target revision)`)
  const schema = await api()
  const created = await schema.createRollout(bodyOf(first ?? 'head', values))
  if (values.wait !== true) return shown(created)
  note(rolloutHeader(created))
  const done = await followed(schema, created, progress)
  return { ...shown(done), exitCode: done.status === 'succeeded' ? 0 : 1 }
}

function shown (rollout: Rollout): VerbOutput {
  return { json: rollout, text: rolloutTable(rollout) }
}

function required (value: string | undefined, usage: string): string {
  if (value === undefined) throw new UsageError(`rollout: usage: aip-schema rollout ${usage}`)
  return value
}

/** The command line's options as the body of `POST /rollouts`; what the service checks, it checks (400 for the rest). */
function bodyOf (target: string, values: VerbContext['values']): RolloutBody {
  const labels = [values.label ?? []].flat().filter((label) => typeof label === 'string')
  const selector: Record<string, string> = {}
  for (const label of labels) {
    const colon = label.indexOf(':')
    if (colon < 1) throw new UsageError(`rollout: --label ${label} is not k:v`)
    selector[label.slice(0, colon)] = label.slice(colon + 1)
  }
  const names = [values.target ?? []].flat().filter((name) => typeof name === 'string')
  const verb = text(values.verb) ?? 'upgrade'
  if (verb !== 'upgrade' && verb !== 'downgrade' && verb !== 'stamp') throw new UsageError(`rollout: --verb is upgrade, downgrade or stamp, not '${verb}'`)
  const onError = text(values['on-error'])
  if (onError !== undefined && onError !== 'stop' && onError !== 'continue') throw new UsageError(`rollout: --on-error is stop or continue, not '${onError}'`)
  const canary = text(values.canary)
  const override = text(values.override)
  return {
    verb,
    target,
    ...(text(values.env) === undefined ? {} : { environment: text(values.env) }),
    ...(labels.length === 0 ? {} : { selector }),
    ...(names.length === 0 ? {} : { targets: names }),
    ...(values.parallel === undefined ? {} : { maxParallel: integer(values.parallel, '--parallel') }),
    ...(canary === undefined ? {} : { canary: canary.endsWith('%') ? canary : integer(canary, '--canary') }),
    ...(values['max-failures'] === undefined ? {} : { maxFailures: integer(values['max-failures'], '--max-failures') }),
    ...(onError === undefined ? {} : { onError }),
    ...(text(values.plan) === undefined ? {} : { planId: text(values.plan) }),
    ...(override === undefined ? {} : { override: { reason: override } }),
  }
}

function text (value: string | boolean | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function integer (value: string | boolean | string[] | undefined, option: string): number {
  const number = Number(value)
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(number)) throw new UsageError(`rollout: ${option} takes a whole number, not '${String(value)}'`)
  return number
}

/** Read again until it ends: the rollout's state as the live line, and a line per target as it finishes. */
async function followed (schema: SchemaApi, created: Rollout, progress: Progress | null): Promise<Rollout> {
  const told = new Set<string>()
  for (let rollout = created; ; rollout = await schema.rollout(created.id)) {
    for (const target of rollout.targets) {
      if (told.has(target.name) || ['pending', 'running'].includes(target.status)) continue
      told.add(target.name)
      progress?.finished(rolloutTargetLine(target))
    }
    if (finished.includes(rollout.status)) return rollout
    progress?.waiting(`Rollout ${rollout.status}: ${rolloutCounts(rollout)}`)
    await sleep(pollMs)
  }
}
