import yoctoSpinner, { type Spinner } from 'yocto-spinner'
import type { BackfillRows, StepStart } from './api.js'
import { stepText } from './format.js'
import type { Progress } from './progress.js'

/** What a step shown live is: a step the engine began, or the service's next one, not yet named. */
type Shown = { readonly step: StepStart, readonly since: number } | { readonly next: number, readonly of: number | null, readonly since: number } | { readonly text: string, readonly since: number }

/**
 * On a terminal, the step under way on one line that keeps time (`2 of 5, 3.1 s`), and a line
 * left behind for each step done. yocto-spinner draws it: it leaves colour to Node's own rules
 * (`NO_COLOR`, `FORCE_COLOR`, the terminal's depth) and copes with a terminal that reports no width.
 */
export function terminalProgress (stream: NodeJS.WriteStream, now: () => number = performance.now.bind(performance)): Progress {
  const spinner: Spinner = yoctoSpinner({ stream })
  let shown: Shown | null = null
  let ticker: NodeJS.Timeout | null = null
  let rows: BackfillRows | null = null
  const textOf = (current: Shown) => ('step' in current
    ? `${stepText(current.step)} (${placeOf(current.step.index, current.step.of)}, ${seconds(now() - current.since)})`
    : 'text' in current
      ? `${current.text} (${seconds(now() - current.since)})`
      : `On the service: ${current.of === null ? 'planning' : `step ${placeOf(current.next, current.of)}`} (${seconds(now() - current.since)})`) +
    (rows === null ? '' : ` ${rowsText(rows)}`)
  const show = (next: Shown) => {
    shown = next
    spinner.text = textOf(next)
    if (!spinner.isSpinning) spinner.start()
    ticker ??= setInterval(() => { if (shown !== null) spinner.text = textOf(shown) }, 100).unref()
  }
  const settle = (ok: boolean) => {
    if (shown === null) return
    const text = textOf(shown)
    shown = null
    if (ok) spinner.success(text)
    else spinner.error(text)
  }
  return {
    stepStarted (step) {
      // A shared transaction runs a step again after the others in it were rolled back: the same line goes on.
      if (shown !== null && 'step' in shown && shown.step.index === step.index) return
      settle(true)
      rows = null
      show({ step, since: now() })
    },
    backfillProgress (progress) {
      rows = progress
      if (shown !== null) spinner.text = textOf(shown)
    },
    stepDone (step, durationMs) {
      shown = null
      rows = null
      const line = `${stepText(step)} (${placeOf(step.index, step.of)}, ${seconds(durationMs)})`
      // Only a spinning spinner leaves a line behind.
      if (!spinner.isSpinning) spinner.start(line)
      spinner.success(line)
    },
    operationRead (stepsDone, stepsTotal) {
      if (stepsTotal !== null && stepsDone >= stepsTotal) return
      if (shown !== null && 'next' in shown && shown.next === stepsDone + 1) return
      show({ next: stepsDone + 1, of: stepsTotal, since: now() })
    },
    waiting (text) {
      // The clock keeps the time since the first read, not since the state last changed.
      show({ text, since: shown !== null && 'text' in shown ? shown.since : now() })
    },
    finished (line) {
      // Only a spinning spinner leaves a line behind; the live line comes back below it.
      if (!spinner.isSpinning) spinner.start(line)
      spinner.stop(line)
      if (shown !== null) spinner.start(textOf(shown))
    },
    end (ok) {
      settle(ok)
      if (ticker !== null) clearInterval(ticker)
      if (spinner.isSpinning) spinner.stop()
    },
  }
}

/** `12,000 of ~1,000,000 rows, 8,400/s, about 1 min 58 s left`: the total is an estimate. */
export function rowsText (progress: BackfillRows): string {
  const count = (value: number) => Math.round(value).toLocaleString('en-US')
  const left = progress.etaMs === null ? '' : `, about ${seconds(progress.etaMs)} left`
  return `— ${count(progress.rowsDone)} of ~${count(progress.rowsTotal)} rows, ${count(progress.rowsPerSecond)}/s${left}`
}

function placeOf (index: number, of: number | null): string {
  return of === null ? `${index}` : `${index} of ${of}`
}

function seconds (ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${String(Math.floor(ms / 1000) % 60).padStart(2, '0')} s`
}
