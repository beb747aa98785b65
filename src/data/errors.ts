/**
 * The data layer's errors: one family, structured fields, no HTTP. A field is named as the
 * caller gave it (`userId`, `metadata`, `cursor`); src/http/problems.ts says where in a request
 * it was and maps each `kind` to a status.
 */
export abstract class DataError extends Error {
  abstract readonly kind: DataErrorKind
  override get name (): string { return this.constructor.name }
}

export type DataErrorKind = 'parent-not-found' | 'duplicate' | 'illegal-transition' | 'patch-too-large' | 'invalid-cursor'

/** A write named a parent (a user, a dataset...) that does not exist. */
export class ParentNotFoundError extends DataError {
  readonly kind = 'parent-not-found'
  constructor (readonly field: string, readonly parent: string) {
    super(`${field} names no existing ${parent}`)
  }
}

/** A write collided with a unique value another record holds. */
export class DuplicateError extends DataError {
  readonly kind = 'duplicate'
  constructor (readonly field: string, what: string) {
    super(`${what} already exists`)
  }
}

/** A model run's status may only move forward. */
export class IllegalTransitionError extends DataError {
  readonly kind = 'illegal-transition'
  constructor (readonly from: string, readonly to: string) {
    super(`a model run cannot go from ${from} to ${to}`)
  }
}

/** A merge patch past what one statement can carry. */
export class PatchTooLargeError extends DataError {
  readonly kind = 'patch-too-large'
  constructor (readonly field: string, maxDepth: number, maxKeys: number) {
    super(`${field} nests deeper than ${maxDepth} levels or has more than ${maxKeys} keys`)
  }
}

/** A page cursor this service did not issue for this list. */
export class InvalidCursorError extends DataError {
  readonly kind = 'invalid-cursor'
  readonly field = 'cursor'
  constructor () {
    super('cursor is not a cursor this list issued')
  }
}
