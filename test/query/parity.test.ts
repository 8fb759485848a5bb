// "What must hold" 1: for the same rows, predict() and predict_proba() in SQL give what evaluate's prediction path
// gives (the file read by mlproj's reader, the Predictor on the loaded frame) and what predict-batch writes, including
// missing values written every way mlproj accepts them and categories never seen in training; and SQL metrics equal
// evaluate's. predict-batch runs as the built CLI (npm run build first).
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {loadFrame} from '../../src/data/load.js'
import {openSource} from '../../src/data/source.js'
import {Predictor} from '../../src/runtime/predictor.js'
import {evaluate} from '../../src/services/evaluate.js'
import {resolveModel} from '../../src/workspace/registry.js'
import {openWorkspace} from '../../src/workspace/workspace.js'
import {mlproj} from '../helpers/cli.js'
import {inDir, type QueryWorkspace, queryWorkspace, rowsOf} from './helpers.js'

let ws: QueryWorkspace
let damaged: string

/**
 * Same model file, same session options, same float64 and string inputs: the outputs should be bitwise equal. The
 * bound allows for ONNX Runtime's kernels blocking a 2,048-row chunk differently from the whole file.
 */
const TOLERANCE = 1e-12

beforeAll(async () => {
  ws = await queryWorkspace()
  // Penguins rows with a row id, then damaged: empty fields, NA / N/A / null / NaN spellings, islands and sexes never
  // seen in training, and a numeric column holding "NA" so that DuckDB's own reader types it as text.
  const lines = (await readFile(ws.file('penguins.csv'), 'utf8')).trim().split('\n')
  const spellings = ['', 'NA', 'N/A', 'null', 'NaN']
  const out = [`row_id,${lines[0]}`]
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(',')
    if (i % 7 === 1) cells[1] = '"Atlantis"'
    if (i % 11 === 2) cells[6] = '"unknown"'
    if (i % 5 === 3) cells[2] = spellings[i % spellings.length]!
    if (i % 9 === 4) cells[6] = spellings[(i + 1) % spellings.length]!
    if (i % 13 === 5) cells[4] = ''
    out.push(`${i},${cells.join(',')}`)
  })
  damaged = ws.file('damaged.csv')
  await writeFile(damaged, `${out.join('\n')}\n`)
})

/** Labels, probabilities and values the way evaluate computes them. */
async function evaluatePath(model: string, file: string) {
  const workspace = await openWorkspace({explicit: ws.dir})
  try {
    const resolved = resolveModel(workspace, model)
    const bytes = await readFile(join(workspace.dir, resolved.artifactDir, 'model.onnx'))
    const predictor = await Predictor.load(bytes, resolved.signature, model)
    const source = await openSource(file)
    try {
      const frame = await loadFrame(source, predictor.columns)
      return {output: await predictor.predict(frame), classes: resolved.signature.classes ?? []}
    } finally {
      await source.release()
    }
  } finally {
    workspace.db.close()
  }
}

describe('predict() in SQL equals evaluate’s predictions', () => {
  for (const model of ['penguins@production', 'penguins-gbdt']) {
    it(`on damaged rows, for ${model}: labels and every class probability`, async () => {
      const {output, classes} = await evaluatePath(model, damaged)
      const rows = await rowsOf(
        ws,
        `SELECT predict('${model}', t) AS label, predict_proba('${model}', t) AS proba FROM 'data/damaged.csv' t ORDER BY row_id`,
      )
      expect(rows).toHaveLength(output.nRows)
      expect(rows.map(r => r.label)).toEqual(output.labels)
      let worst = 0
      rows.forEach((r, i) => {
        const proba = r.proba as Record<string, number>
        classes.forEach((c, k) => {
          worst = Math.max(worst, Math.abs(proba[c]! - output.probabilities![i * classes.length + k]!))
        })
      })
      expect(worst).toBeLessThanOrEqual(TOLERANCE)
    })
  }

  it('on damaged rows, for a classifier with 0/1 labels: BIGINT labels and the probability of 1', async () => {
    const {output} = await evaluatePath('gentoo', damaged)
    const rows = await rowsOf(
      ws,
      `SELECT predict('gentoo', t) AS label, predict_proba('gentoo', t) AS p FROM 'data/damaged.csv' t ORDER BY row_id`,
    )
    expect(rows.map(r => String(r.label))).toEqual(output.labels)
    rows.forEach((r, i) => {
      expect(Math.abs((r.p as number) - output.probabilities![2 * i + 1]!)).toBeLessThanOrEqual(TOLERANCE)
    })
  })

  it('for a regression model', async () => {
    const {output} = await evaluatePath('diabetes', ws.file('diabetes.csv'))
    const rows = await rowsOf(ws, `SELECT predict('diabetes', d) AS v FROM 'data/diabetes.csv' d`)
    rows.forEach((r, i) => {
      expect(Math.abs((r.v as number) - output.values![i]!)).toBeLessThanOrEqual(TOLERANCE * 1000)
    })
  })

  for (const model of ['penguins@production', 'penguins-gbdt']) {
    it(`on damaged rows, for ${model}: what predict-batch writes`, async () => {
      const out = join(ws.dir, `batch-${model.replace(/\W/g, '_')}.parquet`)
      const batch = await mlproj(
        ['predict-batch', model, '--input', damaged, '--output', out, '--keep', 'row_id', '-q'],
        {
          cwd: ws.dir,
        },
      )
      expect(batch.code, batch.stderr).toBe(0)
      const written = await rowsOf(ws, `SELECT * FROM '${out}' ORDER BY row_id`)
      const rows = await rowsOf(
        ws,
        `SELECT predict('${model}', t) AS label, predict_proba('${model}', t) AS proba FROM 'data/damaged.csv' t ORDER BY row_id`,
      )
      expect(rows.map(r => r.label)).toEqual(written.map(w => w.predicted_species))
      let worst = 0
      rows.forEach((r, i) => {
        for (const [c, p] of Object.entries(r.proba as Record<string, number>)) {
          worst = Math.max(worst, Math.abs(p - (written[i]![`probability_${c}`] as number)))
        }
      })
      expect(worst).toBeLessThanOrEqual(TOLERANCE)
    })
  }

  it('gives evaluate’s accuracy and RMSE when the metric is computed in SQL', async () => {
    const [penguins, diabetes] = await inDir(ws.dir, () =>
      Promise.all([
        evaluate({workspace: {explicit: ws.dir}, model: 'penguins-gbdt', data: ws.file('penguins.csv'), gates: []}),
        evaluate({workspace: {explicit: ws.dir}, model: 'diabetes', data: ws.file('diabetes.csv'), gates: []}),
      ]),
    )
    const [sql] = await rowsOf(
      ws,
      `SELECT (SELECT avg((predict('penguins-gbdt', p) = species)::DOUBLE) FROM 'data/penguins.csv' p) AS accuracy,
              (SELECT sqrt(avg((predict('diabetes', d) - progression) ** 2)) FROM 'data/diabetes.csv' d) AS rmse`,
    )
    expect(sql!.accuracy).toBe(penguins.metrics.accuracy)
    expect(Math.abs((sql!.rmse as number) - diabetes.metrics.rmse!) / diabetes.metrics.rmse!).toBeLessThan(1e-12)
  })
})
