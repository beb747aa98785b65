import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { problems } from '../../schemas/common.js'
import { IdParamsSchema, UserCreateSchema, UserListQuerySchema, UserListSchema, UserSchema } from '../../schemas/data.js'
import { found, readSecurity, revisions, writeSecurity } from './common.js'

const users: FastifyPluginAsyncTypebox = async (fastify) => {
  const { users } = fastify.data
  const tags = ['users']

  fastify.post('/users', {
    config: { scope: 'write', requiresRevision: revisions.initial },
    schema: {
      operationId: 'createUser',
      tags,
      summary: 'Create a user; the password, when given, is stored only as a scrypt hash',
      security: writeSecurity,
      body: Type.Ref(UserCreateSchema),
      response: { 201: Type.Ref(UserSchema), ...problems(400, 401, 403, 409, 503) },
    },
  }, async (request, reply) => {
    const user = await users.create(request.body)
    return reply.code(201).header('location', `/users/${user.id}`).send(user)
  })

  fastify.get('/users', {
    config: { scope: 'read', requiresRevision: revisions.initial },
    schema: {
      operationId: 'listUsers',
      tags,
      summary: 'Users, newest first',
      security: readSecurity,
      querystring: UserListQuerySchema,
      response: { 200: Type.Ref(UserListSchema), ...problems(400, 401, 403, 503) },
    },
  }, async (request) => users.list(request.query))

  fastify.get('/users/:id', {
    config: { scope: 'read', requiresRevision: revisions.initial },
    schema: {
      operationId: 'getUser',
      tags,
      summary: 'One user',
      security: readSecurity,
      params: IdParamsSchema,
      response: { 200: Type.Ref(UserSchema), ...problems(400, 401, 403, 404, 503) },
    },
  }, async (request) => found(await users.findById(request.params.id), 'user', request.params.id))
}

export default users
