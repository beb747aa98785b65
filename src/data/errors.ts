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
  readonly field: string
  readonly parent: string
  readonly kind = 'parent-not-found'
  constructor (field: string, parent: string) {
    super(`${field} names no existing ${parent}`)
    this.field = field
    this.parent = parent
  }
}

/** A write collided with a unique value another record holds. */
export class DuplicateError extends DataError {
  readonly field: string
  readonly kind = 'duplicate'
  constructor (field: string, what: string) {
    super(`${what} already exists`)
    this.field = field
  }
}

/** A model run's status may only move forward. */
export class IllegalTransitionError extends DataError {
  readonly from: string
  readonly to: string
  readonly kind = 'illegal-transition'
  constructor (from: string, to: string) {
    super(`a model run cannot go from ${from} to ${to}`)
    this.from = from
    this.to = to
  }
}

/** A merge patch past what one statement can carry. */
export class PatchTooLargeError extends DataError {
  readonly field: string
  readonly kind = 'patch-too-large'
  constructor (field: string, maxDepth: number, maxKeys: number) {
    super(`${field} nests deeper than ${maxDepth} levels or has more than ${maxKeys} keys`)
    this.field = field
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
