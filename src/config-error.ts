/** A configuration the service must not start with; its message is one line meant for an operator. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}
