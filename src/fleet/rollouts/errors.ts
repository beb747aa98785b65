/**
 * Rollouts: one family, structured fields, no HTTP (src/http/error-problems.ts maps each `kind`
 * to a problem type of the same name).
 */
export abstract class RolloutError extends Error {
  abstract readonly kind: RolloutErrorKind
  override get name (): string { return this.constructor.name }
}

export type RolloutErrorKind = 'rollout-not-found' | 'rollout-target-not-found' | 'rollout-transition' | 'no-targets' | 'not-promoted'

export class RolloutNotFoundError extends RolloutError {
  readonly kind = 'rollout-not-found'
  readonly rolloutId: string
  constructor (rolloutId: string) {
    super(`no rollout with id '${rolloutId}'`)
    this.rolloutId = rolloutId
  }
}

export class RolloutTargetNotFoundError extends RolloutError {
  readonly kind = 'rollout-target-not-found'
  readonly rolloutId: string
  readonly target: string
  constructor (rolloutId: string, target: string) {
    super(`rollout ${rolloutId} has no target '${target}'`)
    this.rolloutId = rolloutId
    this.target = target
  }
}

/** Pause of a finished rollout, skip of a running target: what is asked does not follow from where it is. */
export class RolloutTransitionError extends RolloutError {
  readonly kind = 'rollout-transition'
  readonly from: string
  readonly action: string
  constructor (what: string, from: string, action: string) {
    super(`${what} is ${from}: it cannot ${action}`)
    this.from = from
    this.action = action
  }
}

export class NoTargetsError extends RolloutError {
  readonly kind = 'no-targets'
  constructor () {
    super('the environment, selector and names given select no target')
  }
}

/** An earlier environment is not yet at the rollout's revision: promote there first. */
export class NotPromotedError extends RolloutError {
  readonly kind = 'not-promoted'
  readonly environment: string
  readonly behind: string[]
  constructor (environment: string, behind: string[]) {
    super(`environment ${environment} has targets not yet at the rollout's revision: ${behind.slice(0, 10).join(', ')}${behind.length > 10 ? ', ...' : ''}`)
    this.environment = environment
    this.behind = behind
  }
}
