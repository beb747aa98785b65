import { ConfigError } from '../../config-error.js'

/** A targets file the service must not start with: one line naming the entry, e.g. `TARGETS_FILE targets[2].environment: ...`. */
export class TargetsFileError extends ConfigError {
  constructor (path: string, problem: string) {
    super(`TARGETS_FILE ${path}: ${problem}`)
  }
}
