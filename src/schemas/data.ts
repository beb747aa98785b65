import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox'

/**
 * `type: [T, 'null']`, not anyOf: with the app's `coerceTypes`, Ajv coerces inside the first
 * branch of an anyOf it tries, so `null` would become `""` or `0` before the null branch is reached.
 */
function Nullable<T extends TSchema> (schema: T): TUnsafe<Static<T> | null> {
  const plain: Record<string, unknown> = Object.fromEntries(Object.entries(schema))
  return Type.Unsafe<Static<T> | null>({ ...plain, type: [plain.type, 'null'] })
}

function JsonObject (description: string) {
  return Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true, description })
}

const Id = Type.String({ format: 'uuid' })
const Timestamp = Type.String({ format: 'date-time', description: 'UTC, to the microsecond' })
const Int32 = { minimum: -2147483648, maximum: 2147483647 }
const Count = Type.Integer({ minimum: 0, maximum: 2147483647 })

export const IdParamsSchema = Type.Object({ id: Id })

const pageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: "the previous page's `nextCursor`" })),
}

function ListOf<T extends TSchema> (item: T, $id: string) {
  return Type.Object({
    items: Type.Array(Type.Ref(item)),
    nextCursor: Nullable(Type.String({ description: 'pass as `cursor` for the next page; null on the last page' })),
  }, { $id })
}

export const UserSchema = Type.Object({
  id: Id,
  email: Type.String(),
  name: Type.String({ description: 'the username' }),
  isActive: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}, { $id: 'User' })

export const UserCreateSchema = Type.Object({
  email: Type.String({ format: 'email', maxLength: 255 }),
  name: Type.String({ minLength: 1, maxLength: 100, description: 'the username; unique' }),
  password: Type.Optional(Type.String({ minLength: 8, maxLength: 1024, description: 'stored as a scrypt hash; without one the account has no usable password' })),
}, { $id: 'UserCreate', additionalProperties: false })

export const DatasetSchema = Type.Object({
  id: Id,
  userId: Id,
  name: Type.String(),
  description: Nullable(Type.String()),
  filePath: Nullable(Type.String({ description: 'null until a file is attached' })),
  fileSize: Nullable(Type.Integer()),
  rowCount: Nullable(Type.Integer()),
  columnCount: Nullable(Type.Integer()),
  columnsInfo: Type.Unknown({ description: 'any JSON; null when unknown' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}, { $id: 'Dataset' })

export const DatasetCreateSchema = Type.Object({
  userId: Id,
  name: Type.String({ minLength: 1, maxLength: 255 }),
  description: Type.Optional(Type.String()),
  filePath: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'may come later; absent, the dataset has no file yet' })),
  fileSize: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  rowCount: Type.Optional(Count),
  columnCount: Type.Optional(Count),
  columnsInfo: Type.Optional(Type.Unknown({ description: 'any JSON' })),
}, { $id: 'DatasetCreate', additionalProperties: false })

export const ExperimentSchema = Type.Object({
  id: Id,
  userId: Id,
  datasetId: Id,
  name: Type.String(),
  description: Nullable(Type.String()),
  problemType: Nullable(Type.String()),
  targetColumn: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}, { $id: 'Experiment' })

export const ExperimentCreateSchema = Type.Object({
  userId: Id,
  datasetId: Type.String({ format: 'uuid', description: 'required: `experiments.dataset_id` is NOT NULL in every revision' }),
  name: Type.String({ minLength: 1, maxLength: 255 }),
  description: Type.Optional(Type.String()),
  problemType: Type.Optional(Type.String({ minLength: 1, maxLength: 50, examples: ['classification', 'regression'] })),
  targetColumn: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
}, { $id: 'ExperimentCreate', additionalProperties: false })

export const modelRunStatuses = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const
export type ModelRunStatus = typeof modelRunStatuses[number]
const Status = Type.Unsafe<ModelRunStatus>({
  type: 'string',
  enum: [...modelRunStatuses],
  description: 'pending → running → completed | failed; pending | running → cancelled',
})

const FeatureImportance = Type.Array(Type.Object({ feature: Type.String(), importance: Type.Number() }))

export const ModelRunMetadataSchema = Type.Object({
  task_id: Type.Optional(Type.String({ description: 'the Celery task training the model' })),
  feature_importance: Type.Optional(FeatureImportance),
  error: Type.Optional(Type.Object({ type: Type.String(), message: Type.String(), traceback: Type.Optional(Type.String()) })),
}, { $id: 'ModelRunMetadata', additionalProperties: true, description: 'known keys are checked; any other key is kept as given' })

export const ModelRunMetadataPatchSchema = Nullable(Type.Object({
  task_id: Type.Optional(Nullable(Type.String())),
  feature_importance: Type.Optional(Nullable(FeatureImportance)),
  error: Type.Optional(Nullable(Type.Object({ type: Type.String(), message: Type.String(), traceback: Type.Optional(Nullable(Type.String())) }))),
}, {
  $id: 'ModelRunMetadataPatch',
  additionalProperties: true,
  description: 'an RFC 7396 merge patch: objects merge, null removes a key, a null patch clears the metadata; `error` carries type and message so the merged error stays whole',
}))

export const ModelRunSchema = Type.Object({
  id: Id,
  experimentId: Id,
  modelType: Type.String(),
  status: Status,
  hyperparameters: Nullable(JsonObject('as given at creation')),
  metrics: Nullable(JsonObject('the evaluation metrics')),
  metadata: Nullable(JsonObject('task_id, feature_importance, error, and any other key')),
  trainingTime: Nullable(Type.Number({ description: 'seconds' })),
  taskId: Nullable(Type.String({ description: 'metadata.task_id, kept in step by the database' })),
  createdAt: Timestamp,
}, { $id: 'ModelRun' })

export const ModelRunCreateSchema = Type.Object({
  experimentId: Id,
  modelType: Type.String({ minLength: 1, maxLength: 100 }),
  hyperparameters: Type.Optional(JsonObject('the model\'s hyperparameters')),
  metadata: Type.Optional(Type.Ref(ModelRunMetadataSchema)),
}, { $id: 'ModelRunCreate', additionalProperties: false })

export const ModelRunPatchSchema = Type.Object({
  status: Type.Optional(Status),
  metrics: Type.Optional(Nullable(JsonObject('replaces the metrics; null clears them'))),
  metadata: Type.Optional(Type.Ref(ModelRunMetadataPatchSchema)),
  trainingTime: Type.Optional(Nullable(Type.Number({ minimum: 0, description: 'seconds' }))),
}, { $id: 'ModelRunPatch', additionalProperties: false, minProperties: 1 })

export const ModelRunListQuerySchema = Type.Object({
  status: Type.Optional(Status),
  experimentId: Type.Optional(Id),
  modelType: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  taskId: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'the Celery task id (metadata.task_id)' })),
  ...pageQuery,
}, { additionalProperties: false })

export const PreprocessingStepSchema = Type.Object({
  id: Id,
  datasetId: Id,
  stepType: Type.String(),
  order: Type.Integer(),
  parameters: Nullable(JsonObject('the step\'s parameters')),
  isActive: Type.Boolean(),
  hasFittedTransformer: Type.Boolean(),
  fittedTransformerSize: Nullable(Type.Integer({ description: 'bytes; the blob itself is at /preprocessing-steps/{id}/fitted-transformer' })),
  createdAt: Timestamp,
}, { $id: 'PreprocessingStep' })

export const PreprocessingStepCreateSchema = Type.Object({
  datasetId: Id,
  stepType: Type.String({ minLength: 1, maxLength: 100 }),
  order: Type.Integer(Int32),
  parameters: Type.Optional(JsonObject('the step\'s parameters')),
  isActive: Type.Optional(Type.Boolean({ default: true })),
}, { $id: 'PreprocessingStepCreate', additionalProperties: false })

export const PreprocessingStepPatchSchema = Type.Object({
  isActive: Type.Optional(Type.Boolean()),
  order: Type.Optional(Type.Integer(Int32)),
  parameters: Type.Optional(Nullable(JsonObject('replaces the parameters; null clears them'))),
}, { $id: 'PreprocessingStepPatch', additionalProperties: false, minProperties: 1 })

export const PreprocessingStepListQuerySchema = Type.Object({
  datasetId: Type.Optional(Id),
  active: Type.Optional(Type.Boolean()),
  ...pageQuery,
}, { additionalProperties: false })

export const PreprocessingHistoryEntrySchema = Type.Object({
  id: Id,
  datasetId: Id,
  originalDatasetId: Nullable(Id),
  outputDatasetId: Nullable(Id),
  operationType: Type.String(),
  parameters: Nullable(JsonObject('the operation\'s parameters')),
  status: Type.String(),
  executionTime: Nullable(Type.Number({ description: 'seconds' })),
  errorMessage: Nullable(Type.String()),
  statistics: Nullable(JsonObject('what the operation measured')),
  createdAt: Timestamp,
}, { $id: 'PreprocessingHistoryEntry' })

export const PreprocessingHistoryCreateSchema = Type.Object({
  datasetId: Id,
  operationType: Type.String({ minLength: 1, maxLength: 100 }),
  status: Type.String({ minLength: 1, maxLength: 50, examples: ['success', 'failed'] }),
  executionTime: Type.Optional(Type.Number({ minimum: 0, description: 'seconds' })),
  errorMessage: Type.Optional(Type.String()),
  statistics: Type.Optional(JsonObject('what the operation measured')),
  originalDatasetId: Type.Optional(Id),
  outputDatasetId: Type.Optional(Id),
  parameters: Type.Optional(JsonObject('the operation\'s parameters')),
}, { $id: 'PreprocessingHistoryCreate', additionalProperties: false })

export const PreprocessingHistoryListQuerySchema = Type.Object({
  datasetId: Type.Optional(Id),
  status: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
  ...pageQuery,
}, { additionalProperties: false })

export const UserListQuerySchema = Type.Object(pageQuery, { additionalProperties: false })
export const DatasetListQuerySchema = Type.Object({ userId: Type.Optional(Id), ...pageQuery }, { additionalProperties: false })
export const ExperimentListQuerySchema = Type.Object({ userId: Type.Optional(Id), datasetId: Type.Optional(Id), ...pageQuery }, { additionalProperties: false })

export const UserListSchema = ListOf(UserSchema, 'UserList')
export const DatasetListSchema = ListOf(DatasetSchema, 'DatasetList')
export const ExperimentListSchema = ListOf(ExperimentSchema, 'ExperimentList')
export const ModelRunListSchema = ListOf(ModelRunSchema, 'ModelRunList')
export const PreprocessingStepListSchema = ListOf(PreprocessingStepSchema, 'PreprocessingStepList')
export const PreprocessingHistoryListSchema = ListOf(PreprocessingHistoryEntrySchema, 'PreprocessingHistoryList')

export type User = Static<typeof UserSchema>
export type UserCreate = Static<typeof UserCreateSchema>
export type Dataset = Static<typeof DatasetSchema>
export type DatasetCreate = Static<typeof DatasetCreateSchema>
export type DatasetListQuery = Static<typeof DatasetListQuerySchema>
export type Experiment = Static<typeof ExperimentSchema>
export type ExperimentCreate = Static<typeof ExperimentCreateSchema>
export type ExperimentListQuery = Static<typeof ExperimentListQuerySchema>
export type ModelRun = Static<typeof ModelRunSchema>
export type ModelRunCreate = Static<typeof ModelRunCreateSchema>
export type ModelRunPatch = Static<typeof ModelRunPatchSchema>
export type ModelRunListQuery = Static<typeof ModelRunListQuerySchema>
export type PreprocessingStep = Static<typeof PreprocessingStepSchema>
export type PreprocessingStepCreate = Static<typeof PreprocessingStepCreateSchema>
export type PreprocessingStepPatch = Static<typeof PreprocessingStepPatchSchema>
export type PreprocessingStepListQuery = Static<typeof PreprocessingStepListQuerySchema>
export type PreprocessingHistoryEntry = Static<typeof PreprocessingHistoryEntrySchema>
export type PreprocessingHistoryCreate = Static<typeof PreprocessingHistoryCreateSchema>
export type PreprocessingHistoryListQuery = Static<typeof PreprocessingHistoryListQuerySchema>

/** Added with `addSchema` in app.ts, so OpenAPI names each entity and body once. */
export const dataSchemas: TSchema[] = [
  UserSchema, UserCreateSchema, UserListSchema,
  DatasetSchema, DatasetCreateSchema, DatasetListSchema,
  ExperimentSchema, ExperimentCreateSchema, ExperimentListSchema,
  ModelRunMetadataSchema, ModelRunMetadataPatchSchema, ModelRunSchema, ModelRunCreateSchema, ModelRunPatchSchema, ModelRunListSchema,
  PreprocessingStepSchema, PreprocessingStepCreateSchema, PreprocessingStepPatchSchema, PreprocessingStepListSchema,
  PreprocessingHistoryEntrySchema, PreprocessingHistoryCreateSchema, PreprocessingHistoryListSchema,
]
