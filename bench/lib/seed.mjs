// Big tables made by PostgreSQL itself (generate_series), in the shapes the seed describes.
export const rowsPerTable = Number(process.env.BENCH_ROWS ?? 1_000_000)

/** 40% completed: the filter the data target reads. */
const statuses = "ARRAY['completed', 'completed', 'failed', 'running', 'pending', 'cancelled', 'completed', 'completed', 'failed', 'pending']"

export async function seedParents (client, count = 1000) {
  await client.query(`INSERT INTO users (email, username, hashed_password)
    SELECT 'user' || g || '@bench.example', 'user' || g, 'x' FROM generate_series(1, $1) g`, [Math.ceil(count / 10)])
  await client.query(`INSERT INTO datasets (user_id, name, file_path)
    SELECT u.id, 'dataset ' || g, '/data/' || g || '.csv'
      FROM generate_series(1, $1) g
      JOIN LATERAL (SELECT id FROM users ORDER BY id OFFSET g % (SELECT count(*) FROM users) LIMIT 1) u ON true`, [count])
  await client.query(`INSERT INTO experiments (user_id, dataset_id, name)
    SELECT user_id, id, 'experiment of ' || name FROM datasets`)
}

/** Runs spread over the last year, newest last; `status` only once revision b2c3d4e5f6g7 added it. */
export async function seedModelRuns (client, count, { withStatus }) {
  const status = withStatus ? ', status' : ''
  const statusValue = withStatus ? `, (${statuses})[1 + g % 10]` : ''
  await client.query(`INSERT INTO model_runs (experiment_id, model_type, hyperparameters, metrics, training_time, created_at${status})
    SELECT e.ids[1 + g % array_length(e.ids, 1)], (ARRAY['xgboost', 'random_forest', 'linear'])[1 + g % 3],
           jsonb_build_object('n_estimators', 100 + g % 400), jsonb_build_object('accuracy', (g % 1000) / 1000.0), g % 600,
           now() - make_interval(secs => ($1 - g) * 31.5 + (g % 7))${statusValue}
      FROM generate_series(1, $1) g, (SELECT array_agg(id) AS ids FROM experiments) e`, [count])
}

export async function seedPreprocessingSteps (client, count) {
  await client.query(`INSERT INTO preprocessing_steps (dataset_id, step_type, parameters, "order")
    SELECT d.ids[1 + g % array_length(d.ids, 1)], (ARRAY['scale', 'impute', 'encode'])[1 + g % 3], '{"with_mean": true}', g % 20
      FROM generate_series(1, $1) g, (SELECT array_agg(id) AS ids FROM datasets) d`, [count])
}
