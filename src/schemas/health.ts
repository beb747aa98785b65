import { Type } from '@sinclair/typebox'
import { releaseFields } from './migrations.js'

export const LiveSchema = Type.Object({ status: Type.Literal('ok') })

export const ReadinessSchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unready')]),
  database: Type.Object({ reachable: Type.Boolean() }),
  schema: Type.Object({
    current: Type.Array(Type.String()),
    heads: Type.Array(Type.String()),
    upToDate: Type.Boolean(),
    pending: Type.Integer(),
    ...releaseFields,
  }),
}, { $id: 'Readiness' })
