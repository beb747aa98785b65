import type { ProgressReporter } from './api.js'
import { stepLine } from './format.js'

export interface Progress extends ProgressReporter {
  /** The command is over: what is still shown ends as done or as failed. */
  end (ok: boolean): void
  /** Something followed on the service, not a step (a rollout): its state, redrawn on a terminal, dropped in a log. */
  waiting (text: string): void
  /** A line that stays: left behind the live line on a terminal, written as it is elsewhere. */
  finished (line: string): void
}

/** Whether `stream` is a terminal the live view may redraw: not a pipe, not `TERM=dumb`, not CI's log. */
export function isLiveTerminal (stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && env.TERM !== 'dumb' && env.CI === undefined
}

/** A line per step, as Alembic logs them: what a log file, a pipe or `--json` gets. */
export function lineProgress (write: (text: string) => void): Progress {
  return {
    stepStarted: (step) => write(`${stepLine(step)}\n`),
    stepDone: (step) => write(`${stepLine(step)}\n`),
    operationRead: () => {},
    // A line per batch would flood a log: the step's own line says when it is done.
    backfillProgress: () => {},
    // A log gets the lines that stay; a state read every half second would flood it.
    waiting: () => {},
    finished: (line) => write(`${line}\n`),
    end: () => {},
  }
}
