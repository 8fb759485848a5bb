// Tree models through the CLI: training each tree algorithm on every task, feature importance in the run
// record, `runs show` and `evaluate`, and `--algo auto` recording every candidate as its own run.
import {readFile} from 'node:fs/promises'
import {beforeAll, describe, expect, it} from 'vitest'
import {Rng} from '../../src/ml/rng.js'
import {dataset, mlproj, mlprojJson, tempDir} from '../helpers/cli.js'

interface Importance {
  feature: string
  gain: number
  splits: number
}

interface TrainDoc {
  runId: string
  algo: string
  task: string
  params: Record<string, unknown>
  metrics: {test: Record<string, number>}
  importance?: Importance[]
  candidates?: Array<{runId: string; algo: string; metric: string; value: number}>
  artifacts: {model: string; dir: string}
  model?: {name: string; version: number}
}

let dir: string

beforeAll(async () => {
  dir = await tempDir()
  expect((await mlproj(['init'], {cwd: dir})).code).toBe(0)
})

describe('tree algorithms', () => {
  for (const algo of ['gbdt', 'forest', 'tree']) {
    it(`trains ${algo} for binary, multiclass and regression targets`, async () => {
      const cases = [
        ['breast_cancer.csv', 'diagnosis', 'classification', 'accuracy', 0.9],
        ['penguins.csv', 'species', 'classification', 'accuracy', 0.9],
        ['diabetes.csv', 'progression', 'regression', 'r2', 0],
      ] as const
      for (const [file, target, task, metric, floor] of cases) {
        // A single unpruned tree over-fits a noisy regression target; bound its depth as a user would.
        const extra = algo === 'tree' ? ['--param', 'maxDepth=4'] : []
        const r = await mlprojJson<TrainDoc>(['train', dataset(file), '--target', target, '--algo', algo, ...extra], {
          cwd: dir,
        })
        expect(r.code, r.stderr).toBe(0)
        expect(r.json).toMatchObject({algo, task})
        expect(r.json.metrics.test[metric]).toBeGreaterThan(floor)
      }
    })
  }

  it('records feature importance with the run, and shows it in runs show and evaluate', async () => {
    const r = await mlprojJson<TrainDoc>(
      ['train', dataset('penguins.csv'), '--target', 'species', '--algo', 'gbdt', '--save', 'penguin-trees'],
      {cwd: dir},
    )
    const importance = r.json.importance!
    expect(importance.map(f => f.feature).sort()).toEqual(
      ['bill_depth_mm', 'bill_length_mm', 'body_mass_g', 'flipper_length_mm', 'island', 'sex', 'year'].sort(),
    )
    expect(importance[0]!.gain).toBeGreaterThanOrEqual(importance.at(-1)!.gain)
    expect(importance.reduce((a, f) => a + f.splits, 0)).toBeGreaterThan(0)
    expect(JSON.parse(await readFile(`${r.json.artifacts.dir}/importance.json`, 'utf8'))).toEqual(importance)
    const shown = await mlprojJson<{importance: Importance[]}>(['runs', 'show', r.json.runId], {cwd: dir})
    expect(shown.json.importance).toEqual(importance)
    const human = await mlproj(['runs', 'show', r.json.runId], {cwd: dir})
    expect(human.stdout).toContain('share of gain')
    const evaluated = await mlprojJson<{importance: Importance[]}>(
      ['evaluate', 'penguin-trees', dataset('penguins.csv')],
      {cwd: dir},
    )
    expect(evaluated.json.importance).toEqual(importance)
  })

  it('refuses a gbdt parameter that is out of range, naming the valid range', async () => {
    const r = await mlprojJson<{error: {code: string; message: string}}>(
      ['train', dataset('iris.csv'), '--target', 'species', '--algo', 'gbdt', '--param', 'maxBins=1000'],
      {cwd: dir},
    )
    expect(r.code).toBe(2)
    expect(r.json.error.message).toContain('<= 255')
  })

  it('accepts LightGBM-style parameters in kebab-case', async () => {
    const r = await mlprojJson<TrainDoc>(
      [
        'train',
        dataset('iris.csv'),
        '--target',
        'species',
        '--algo',
        'gbdt',
        '--param',
        'num-leaves=7',
        '--param',
        'learning-rate=0.3',
      ],
      {cwd: dir},
    )
    expect(r.json.params).toMatchObject({numLeaves: 7, learningRate: 0.3, nEstimators: 100})
  })
})

describe('--algo auto', () => {
  it('fits every candidate as its own run and keeps the best by AUC for a binary target', async () => {
    const r = await mlprojJson<TrainDoc>(
      [
        'train',
        dataset('breast_cancer.csv'),
        '--target',
        'diagnosis',
        '--algo',
        'auto',
        '--experiment',
        'auto',
        '--save',
        'cancer-auto',
      ],
      {cwd: dir},
    )
    expect(r.code, r.stderr).toBe(0)
    const candidates = r.json.candidates!
    expect(candidates.map(c => c.algo)).toEqual(['logistic', 'gbdt', 'forest'])
    expect(candidates.every(c => c.metric === 'auc')).toBe(true)
    const best = Math.max(...candidates.map(c => c.value))
    expect(r.json.metrics.test.auc).toBe(best)
    expect(candidates.find(c => c.runId === r.json.runId)!.value).toBe(best)
    const runs = await mlprojJson<{runs: Array<{id: string; status: string}>}>(
      ['runs', 'list', '--experiment', 'auto'],
      {cwd: dir},
    )
    expect(runs.json.runs.map(x => x.id).sort()).toEqual(candidates.map(c => c.runId).sort())
    expect(runs.json.runs.every(x => x.status === 'finished')).toBe(true)
    const model = await mlprojJson<{versions: Array<{runId: string}>}>(['models', 'show', 'cancer-auto'], {cwd: dir})
    expect(model.json.versions[0]!.runId).toBe(r.json.runId)
  })

  it('selects by RMSE for regression and by accuracy for multiclass', async () => {
    const reg = await mlprojJson<TrainDoc>(
      ['train', dataset('diabetes.csv'), '--target', 'progression', '--algo', 'auto'],
      {cwd: dir},
    )
    expect(reg.json.candidates!.map(c => [c.algo, c.metric])).toEqual([
      ['linear', 'rmse'],
      ['gbdt', 'rmse'],
      ['forest', 'rmse'],
    ])
    expect(reg.json.metrics.test.rmse).toBe(Math.min(...reg.json.candidates!.map(c => c.value)))
    const multi = await mlprojJson<TrainDoc>(['train', dataset('iris.csv'), '--target', 'species', '--algo', 'auto'], {
      cwd: dir,
    })
    expect(multi.json.candidates!.every(c => c.metric === 'accuracy')).toBe(true)
  })

  it('refuses --param with auto as a usage error', async () => {
    const r = await mlproj(['train', dataset('iris.csv'), '--target', 'species', '--algo', 'auto', '--param', 'c=1'], {
      cwd: dir,
    })
    expect(r.code).toBe(2)
  })
})

describe('worker threads', () => {
  it('give the same forest and boosted trees as one thread (MLPROJ_THREADS=1)', async () => {
    // Large enough that training uses the worker threads: the forest's trees (10,000 rows × 30 features × 100
    // trees), gbdt's binning (40,000 × 30 cells) and histograms.
    const write = async (name: string, rows: number) => {
      const lines = [`label,${Array.from({length: 30}, (_, j) => `f${j}`).join(',')}`]
      const rng = new Rng(7)
      const next = () => rng.nextFloat() * 2 - 1
      for (let i = 0; i < rows; i++) {
        const x = Array.from({length: 30}, next)
        lines.push(`${x[0]! + x[1]! * x[2]! + 0.3 * next() > 0 ? 1 : 0},${x.map(v => v.toFixed(4)).join(',')}`)
      }
      await import('node:fs/promises').then(fs => fs.writeFile(`${dir}/${name}`, `${lines.join('\n')}\n`))
      return `${dir}/${name}`
    }
    for (const [algo, file] of [
      ['forest', await write('wide.csv', 10_000)],
      ['gbdt', await write('long.csv', 40_000)],
    ] as const) {
      const one = await mlprojJson<TrainDoc>(['train', file, '--target', 'label', '--algo', algo], {
        cwd: dir,
        env: {MLPROJ_THREADS: '1'},
      })
      const two = await mlprojJson<TrainDoc>(['train', file, '--target', 'label', '--algo', algo], {
        cwd: dir,
        env: {MLPROJ_THREADS: '2'},
      })
      expect(one.code, one.stderr).toBe(0)
      expect(two.code, two.stderr).toBe(0)
      expect((await readFile(one.json.artifacts.model)).equals(await readFile(two.json.artifacts.model))).toBe(true)
    }
  })
})
