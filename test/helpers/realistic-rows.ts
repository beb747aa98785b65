import type { Knex } from 'knex'

/**
 * Row counts a production database of the service has, for the tables that exist at the current
 * revision: the run and step tables past LINT_LARGE_TABLE_ROWS, their parents below it. Tops up
 * what is missing, then VACUUM ANALYZE of those tables, so `reltuples` holds the counts.
 */
const tables: ReadonlyArray<{ readonly table: string, readonly rows: number, readonly insert: string }> = [
  { table: 'users', rows: 2_000, insert: "INSERT INTO users (email, username, hashed_password) SELECT 'user' || g || '-' || gen_random_uuid() || '@example.com', 'user-' || gen_random_uuid(), 'x' FROM generate_series(1, ?) g" },
  { table: 'datasets', rows: 10_000, insert: "INSERT INTO datasets (user_id, name, file_path) SELECT u.ids[1 + g % array_length(u.ids, 1)], 'dataset ' || g, '/data/' || g || '.csv' FROM generate_series(1, ?) g, (SELECT array_agg(id) AS ids FROM users) u" },
  { table: 'experiments', rows: 10_000, insert: "INSERT INTO experiments (user_id, dataset_id, name) SELECT d.user_id, d.id, 'experiment ' || d.name FROM (SELECT * FROM datasets ORDER BY id LIMIT ?) d" },
  { table: 'feature_engineering', rows: 10_000, insert: "INSERT INTO feature_engineering (dataset_id, operation_type) SELECT d.ids[1 + g % array_length(d.ids, 1)], 'scale' FROM generate_series(1, ?) g, (SELECT array_agg(id) AS ids FROM datasets) d" },
  { table: 'model_runs', rows: 150_000, insert: "INSERT INTO model_runs (experiment_id, model_type, hyperparameters) SELECT e.ids[1 + g % array_length(e.ids, 1)], (ARRAY['xgboost', 'random_forest', 'linear'])[1 + g % 3], jsonb_build_object('n_estimators', g % 500) FROM generate_series(1, ?) g, (SELECT array_agg(id) AS ids FROM experiments) e" },
  { table: 'tuning_runs', rows: 10_000, insert: "INSERT INTO tuning_runs (model_run_id, tuning_method) SELECT id, 'grid' FROM (SELECT id FROM model_runs ORDER BY id LIMIT ?) r" },
  { table: 'generated_code', rows: 10_000, insert: "INSERT INTO generated_code (experiment_id, code_type, code) SELECT id, 'training', 'print(1)' FROM (SELECT id FROM experiments ORDER BY id LIMIT ?) e" },
  { table: 'preprocessing_steps', rows: 150_000, insert: "INSERT INTO preprocessing_steps (dataset_id, step_type, \"order\") SELECT d.ids[1 + g % array_length(d.ids, 1)], (ARRAY['scale', 'impute', 'encode'])[1 + g % 3], g % 20 FROM generate_series(1, ?) g, (SELECT array_agg(id) AS ids FROM datasets) d" },
  { table: 'preprocessing_history', rows: 150_000, insert: "INSERT INTO preprocessing_history (dataset_id, operation_type) SELECT d.ids[1 + g % array_length(d.ids, 1)], 'impute' FROM generate_series(1, ?) g, (SELECT array_agg(id) AS ids FROM datasets) d" },
]

export async function fillRealisticRows (knex: Knex): Promise<void> {
  const filled: string[] = []
  for (const { table, rows, insert } of tables) {
    const exists = (await knex.raw<{ rows: Array<{ present: boolean }> }>('SELECT to_regclass(?) IS NOT NULL AS present', [table])).rows[0]?.present === true
    if (!exists) continue
    const { count } = await knex(table).count<Array<{ count: string }>>({ count: '*' }).first() ?? { count: '0' }
    const missing = rows - Number(count)
    if (missing <= 0) continue
    await knex.raw(insert, [missing])
    filled.push(table)
  }
  if (filled.length > 0) await knex.raw(`VACUUM ANALYZE ${filled.join(', ')}`)
}
