import { Type } from '@sinclair/typebox'

export const WhoAmISchema = Type.Object({
  scope: Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('migrate'), Type.Literal('admin')], { description: "the token's scope; `admin` when no token is asked for" }),
  tokenRequired: Type.Boolean({ description: 'false when the service runs with AUTH_DISABLED (or the developer setup)' }),
}, { $id: 'WhoAmI' })
