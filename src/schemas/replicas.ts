import { Type } from '@sinclair/typebox'
import { RevisionIdSchema } from './migrations.js'

export const ReplicaSchema = Type.Object({
  instance: Type.String({ description: 'the replica: host and process, unless the deployment named it' }),
  version: Type.String({ description: 'the package version it runs: its release' }),
  heads: Type.Array(RevisionIdSchema, { description: "the heads of the revisions the replica's code knows" }),
  startedAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  state: Type.Union([Type.Literal('ready'), Type.Literal('compatible-ahead'), Type.Literal('unready')], {
    description: '`compatible-ahead`: serving a database a newer release moved on, with nothing breaking; `unready`: its /health/ready answers 503',
  }),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'why it is not simply ready; null when it is' }),
}, { $id: 'Replica' })

export const ReplicaListSchema = Type.Object({
  replicas: Type.Array(Type.Ref(ReplicaSchema)),
}, { $id: 'ReplicaList' })

export const replicaSchemas = [ReplicaSchema, ReplicaListSchema]
