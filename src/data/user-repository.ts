import type { Knex } from 'knex'
import type { User, UserCreate } from '../schemas/data.js'
import { isoTimestamp } from './columns.js'
import { withConstraints } from './constraint-errors.js'
import { newestFirstPage, type Page, type PageRequest } from './pagination.js'
import { hashPassword, unusablePassword } from './password.js'

export type UserRepository = ReturnType<typeof createUserRepository>

/** The API's `name` is the table's `username`; `hashed_password` is written here and never read back. */
export function createUserRepository (knex: Knex) {
  const columns = [
    'id', 'email', 'username as name', 'is_active as isActive',
    isoTimestamp(knex, 'created_at', 'createdAt'), isoTimestamp(knex, 'updated_at', 'updatedAt'),
  ]

  return {
    async create (user: UserCreate): Promise<User> {
      const hashed = user.password === undefined ? unusablePassword : await hashPassword(user.password)
      const [row] = await withConstraints(knex('users')
        .insert({ email: user.email, username: user.name, hashed_password: hashed })
        .returning(columns))
      return row
    },

    async findById (id: string): Promise<User | null> {
      return await knex('users').select(columns).where({ id }).first() ?? null
    },

    async list (page: PageRequest): Promise<Page<User>> {
      return await newestFirstPage<User>(knex('users').select(columns), page)
    },
  }
}
