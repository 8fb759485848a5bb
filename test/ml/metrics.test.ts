import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import {
  type ClassificationMetrics,
  checkGates,
  classificationMetrics,
  flattenMetrics,
  METRIC_NAMES,
  metricDirection,
  parseGate,
  regressionMetrics,
  rocAuc,
} from '../../src/ml/metrics.js'

// Reference values marked "sklearn" were computed with scikit-learn 1.2.1 (numpy 1.24.2) on the same arrays
// and are compared with an absolute tolerance of 1e-12.
const TOL = 1e-12

function near(actual: number | undefined, expected: number): void {
  expect(actual).toBeTypeOf('number')
  expect(Math.abs((actual as number) - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(TOL)
}

function nearAll(actual: readonly number[], expected: readonly number[]): void {
  expect(actual).toHaveLength(expected.length)
  for (const [i, a] of actual.entries()) near(a, expected[i]!)
}

function rowMajor(rows: number[][]): Float64Array {
  return Float64Array.from(rows.flat())
}

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected the call to throw')
}

describe('rocAuc', () => {
  it('gives the textbook answer for a small example without ties', () => {
    // Pairs (pos, neg): 0.35>0.1, 0.35<0.4, 0.8>0.1, 0.8>0.4 → 3 of 4.
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], Uint8Array.from([0, 0, 1, 1]))).toBe(0.75)
  })

  it('counts a tied positive/negative pair as one half', () => {
    expect(rocAuc([1, 1], [true, false])).toBe(0.5)
    // Positive 2 vs negatives {1, 2, 3}: one win, one tie, one loss → 1.5 of 3.
    expect(rocAuc([1, 2, 2, 3], [false, true, false, false])).toBe(0.5)
  })

  it('is 1 for a perfect ranking and 0 for a reversed one', () => {
    expect(rocAuc([0.1, 0.2, 0.9, 0.95], [false, false, true, true])).toBe(1)
    expect(rocAuc([0.9, 0.95, 0.1, 0.2], [false, false, true, true])).toBe(0)
  })

  it('matches sklearn roc_auc_score when many scores are tied', () => {
    // sklearn: roc_auc_score(y, s) = 0.68
    const s = [0.5, 0.5, 0.5, 0.2, 0.8, 0.8, 0.1, 0.5, 0.9, 0.2]
    const y = Uint8Array.from([1, 0, 1, 0, 1, 0, 0, 0, 1, 1])
    near(rocAuc(s, y), 0.68)
    // sklearn: 0.6944444444444445
    const s2 = Float64Array.from([3, 1, 2, 2, 5, 4, 4, 0, 2, 1, 3, 3])
    const y2 = [1, 0, 1, 0, 1, 1, 0, 0, 0, 1, 0, 1].map(v => v === 1)
    near(rocAuc(s2, y2), 0.6944444444444445)
  })

  it('treats -0 and +0 as the same score', () => {
    expect(rocAuc([-0, 0], [true, false])).toBe(0.5)
    expect(rocAuc([0, -0], [true, false])).toBe(0.5)
  })

  it('does not depend on the order of the rows', () => {
    const s = [0.5, 0.5, 0.5, 0.2, 0.8, 0.8, 0.1, 0.5, 0.9, 0.2]
    const y = [1, 0, 1, 0, 1, 0, 0, 0, 1, 1]
    const order = [9, 3, 0, 7, 5, 1, 8, 2, 6, 4]
    near(
      rocAuc(
        order.map(i => s[i]!),
        Uint8Array.from(order.map(i => y[i]!)),
      ),
      0.68,
    )
  })

  it('throws a DataError when only one class is present', () => {
    expect(() => rocAuc([0.1, 0.2], [true, true])).toThrow(expect.objectContaining({code: 'E_DATA_AUC_ONE_CLASS'}))
    expect(() => rocAuc([0.1, 0.2], [false, false])).toThrow(expect.objectContaining({code: 'E_DATA_AUC_ONE_CLASS'}))
  })

  it('rejects NaN scores and mismatched lengths', () => {
    expect(() => rocAuc([Number.NaN, 0.2], [true, false])).toThrow(expect.objectContaining({code: 'E_DATA_AUC_NAN'}))
    expect(() => rocAuc([0.1, 0.2, 0.3], [true, false])).toThrow(
      expect.objectContaining({code: 'E_DATA_METRICS_LENGTH'}),
    )
  })

  it('is exact on a million rows', () => {
    // Score i, positive when i is odd: positive 2j+1 beats the j+1 negatives below it, so
    // AUC = Σ(j+1) / m² = (m+1) / 2m with m = 500,000 positives and negatives each.
    const n = 1_000_000
    const scores = new Float64Array(n)
    const positive = new Uint8Array(n)
    for (let i = 0; i < n; i++) {
      scores[i] = i
      positive[i] = i % 2
    }
    const m = n / 2
    expect(rocAuc(scores, positive)).toBe((m + 1) / (2 * m))
  })
})

describe('classificationMetrics', () => {
  describe('on a binary problem with tied probabilities', () => {
    const yTrue = Int32Array.from([0, 0, 1, 1, 0, 1, 0, 1, 1, 0])
    const yPred = Int32Array.from([0, 1, 1, 0, 0, 1, 0, 1, 1, 1])
    const p1 = [0.1, 0.6, 0.8, 0.4, 0.4, 0.9, 0.2, 0.6, 0.7, 0.55]
    const proba = rowMajor(p1.map(p => [1 - p, p]))
    const m = classificationMetrics(yTrue, yPred, ['no', 'yes'], proba)

    it('builds the confusion matrix with true classes as rows', () => {
      // By hand: true 0 → predicted 0 at rows 0,4,6 and 1 at rows 1,9; true 1 → 0 at row 3, 1 at rows 2,5,7,8.
      expect(m.confusionMatrix).toEqual([
        [3, 2],
        [1, 4],
      ])
      expect(m.labels).toEqual(['no', 'yes'])
    })

    it('computes accuracy and per-class precision, recall and F1 like sklearn', () => {
      expect(m.accuracy).toBe(0.7) // 7 of 10 by hand
      nearAll(
        m.perClass.map(c => c.precision),
        [0.75, 0.6666666666666666],
      )
      nearAll(
        m.perClass.map(c => c.recall),
        [0.6, 0.8],
      )
      nearAll(
        m.perClass.map(c => c.f1),
        [0.6666666666666665, 0.7272727272727272],
      )
      expect(m.perClass.map(c => c.support)).toEqual([5, 5])
      expect(m.perClass.map(c => c.label)).toEqual(['no', 'yes'])
    })

    it('computes the macro averages, balanced accuracy, log loss and AUC like sklearn', () => {
      near(m.precisionMacro, 0.7083333333333333)
      near(m.recallMacro, 0.7)
      near(m.f1Macro, 0.6969696969696968)
      near(m.balancedAccuracy, 0.7)
      near(m.logLoss, 0.4666423485380868) // log_loss(y, proba, eps=1e-15)
      near(m.auc, 0.88) // roc_auc_score(y, proba[:, 1])
    })

    it('gives the same answers from Float32 probabilities within float32 precision', () => {
      const m32 = classificationMetrics(yTrue, yPred, ['no', 'yes'], Float32Array.from(proba))
      expect(m32.auc).toBe(0.88) // ranking is unchanged by the rounding
      expect(m32.logLoss).toBeCloseTo(0.4666423485380868, 6)
    })
  })

  describe('on a three-class problem where one class is never predicted', () => {
    const yTrue = Int32Array.from([0, 1, 2, 2, 1, 0, 2, 1, 0, 2, 1, 0])
    const yPred = Int32Array.from([0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 0, 1])
    const proba = rowMajor([
      [0.7, 0.2, 0.1],
      [0.2, 0.5, 0.3],
      [0.3, 0.4, 0.3],
      [0.5, 0.2, 0.3],
      [0.1, 0.6, 0.3],
      [0.6, 0.3, 0.1],
      [0.2, 0.45, 0.35],
      [0.25, 0.5, 0.25],
      [0.5, 0.25, 0.25],
      [0.4, 0.3, 0.3],
      [0.45, 0.35, 0.2],
      [0.3, 0.5, 0.2],
    ])
    const m = classificationMetrics(yTrue, yPred, ['a', 'b', 'c'], proba)

    it('gives the never-predicted class precision 0 (zero_division=0) and still averages over it', () => {
      expect(m.perClass[2]).toEqual({label: 'c', precision: 0, recall: 0, f1: 0, support: 4})
      expect(m.confusionMatrix).toEqual([
        [3, 1, 0],
        [1, 3, 0],
        [2, 2, 0],
      ])
      // By hand: precisions 3/6, 3/6, 0 → macro 1/3.
      near(m.precisionMacro, 0.3333333333333333)
      near(m.recallMacro, 0.5)
      near(m.f1Macro, 0.39999999999999997)
      near(m.balancedAccuracy, 0.5)
      expect(m.accuracy).toBe(0.5)
    })

    it('computes macro one-vs-rest AUC and log loss like sklearn', () => {
      near(m.auc, 0.8854166666666666) // roc_auc_score(y, proba, multi_class='ovr', average='macro')
      near(m.logLoss, 0.8644419332876373) // log_loss(y, proba, eps=1e-15)
    })

    it('defines multiclass AUC as the plain mean of the per-class one-vs-rest AUCs', () => {
      const perClass = [0, 1, 2].map(c =>
        rocAuc(
          Array.from(yTrue, (_, i) => proba[i * 3 + c]!),
          Array.from(yTrue, y => y === c),
        ),
      )
      near(m.auc, (perClass[0]! + perClass[1]! + perClass[2]!) / 3)
    })
  })

  describe('with classes missing from the true labels', () => {
    // Four classes: 'c' is predicted but never true, 'd' appears nowhere.
    const yTrue = Int32Array.from([0, 0, 1, 1, 1, 0, 1, 0])
    const yPred = Int32Array.from([0, 2, 1, 1, 0, 0, 2, 0])
    const classes = ['a', 'b', 'c', 'd']

    it('averages precision/recall/F1 over labels seen in yTrue or yPred, as sklearn does by default', () => {
      const m = classificationMetrics(yTrue, yPred, classes)
      near(m.precisionMacro, 0.5833333333333334)
      near(m.recallMacro, 0.4166666666666667)
      near(m.f1Macro, 0.47222222222222215)
      expect(m.perClass[3]).toEqual({label: 'd', precision: 0, recall: 0, f1: 0, support: 0})
    })

    it('computes balanced accuracy over the classes present in yTrue only', () => {
      const m = classificationMetrics(yTrue, yPred, classes)
      near(m.balancedAccuracy, 0.625) // sklearn; by hand (3/4 + 2/4) / 2
      expect(m.accuracy).toBe(0.625)
    })

    it('omits AUC but keeps log loss when a class is absent from yTrue', () => {
      const proba = new Float64Array(yTrue.length * 4).fill(0.25)
      const m = classificationMetrics(yTrue, yPred, classes, proba)
      expect(m.auc).toBeUndefined()
      near(m.logLoss, Math.log(4))
    })

    it('omits AUC for a binary problem whose yTrue holds one class', () => {
      const m = classificationMetrics(
        Int32Array.from([1, 1]),
        Int32Array.from([1, 0]),
        ['n', 'y'],
        [0.2, 0.8, 0.6, 0.4],
      )
      expect(m.auc).toBeUndefined()
      expect(m.logLoss).toBeDefined()
      expect('auc' in flattenMetrics(m)).toBe(false)
    })
  })

  it('omits log loss and AUC when no probabilities are given', () => {
    const m = classificationMetrics(Int32Array.from([0, 1]), Int32Array.from([0, 1]), ['n', 'y'])
    expect(m.logLoss).toBeUndefined()
    expect(m.auc).toBeUndefined()
    expect(m.accuracy).toBe(1)
  })

  it('clips probabilities of exactly 0 and 1 to 1e-15 so a confident mistake costs a finite amount', () => {
    // sklearn: log_loss([0, 1, 1, 0], [[1, 0], [0, 1], [1, 0], [.3, .7]], eps=1e-15) = 8.935687299809155
    const m = classificationMetrics(
      Int32Array.from([0, 1, 1, 0]),
      Int32Array.from([0, 1, 0, 1]),
      ['n', 'y'],
      rowMajor([
        [1, 0],
        [0, 1],
        [1, 0],
        [0.3, 0.7],
      ]),
    )
    near(m.logLoss, 8.935687299809155)
  })

  it('rejects mismatched lengths, out-of-range class indices and wrongly sized probabilities', () => {
    const classes = ['n', 'y']
    expect(() => classificationMetrics(Int32Array.from([0, 1]), Int32Array.from([0]), classes)).toThrow(
      expect.objectContaining({code: 'E_DATA_METRICS_LENGTH'}),
    )
    expect(() => classificationMetrics(Int32Array.from([0, 2]), Int32Array.from([0, 1]), classes)).toThrow(
      expect.objectContaining({code: 'E_DATA_METRICS_CLASS_INDEX'}),
    )
    expect(() => classificationMetrics(Int32Array.from([0, 1]), Int32Array.from([0, -1]), classes)).toThrow(
      expect.objectContaining({code: 'E_DATA_METRICS_CLASS_INDEX'}),
    )
    expect(() => classificationMetrics(Int32Array.from([0, 1]), Int32Array.from([0, 1]), classes, [0.5, 0.5])).toThrow(
      expect.objectContaining({code: 'E_DATA_METRICS_PROBABILITIES'}),
    )
    expect(() => classificationMetrics(new Int32Array(0), new Int32Array(0), classes)).toThrow(
      expect.objectContaining({code: 'E_DATA_METRICS_EMPTY'}),
    )
  })

  it('computes the metrics of a million rows with probabilities', () => {
    const n = 1_000_000
    const k = 3
    const yTrue = new Int32Array(n)
    const yPred = new Int32Array(n)
    const proba = new Float32Array(n * k)
    for (let i = 0; i < n; i++) {
      yTrue[i] = i % k
      yPred[i] = i % 10 === 0 ? (i + 1) % k : i % k
      for (let c = 0; c < k; c++) proba[i * k + c] = c === yPred[i] ? 0.8 : 0.1
    }
    // Timings belong in benchmarks; this checks that the large-input path gives the right answer.
    const m = classificationMetrics(yTrue, yPred, ['a', 'b', 'c'], proba)
    expect(m.accuracy).toBe(0.9)
    expect(m.auc).toBeGreaterThan(0.5)
  })
})

describe('regressionMetrics', () => {
  it('gives hand-computable answers on a tiny example', () => {
    // Errors 1 and -1 → MSE 1, MAE 1; mean of yTrue 2, SStot 2 → R² = 1 - 2/2 = 0; APE 1/1 and 1/3.
    const m = regressionMetrics([1, 3], [2, 2])
    expect(m).toEqual({rmse: 1, mae: 1, r2: 0, mape: (1 + 1 / 3) / 2, n: 2})
  })

  it('matches sklearn on a small example', () => {
    const yTrue = Float64Array.from([3, -0.5, 2, 7, 4.25, -1.5])
    const yPred = Float64Array.from([2.5, 0, 2, 8, 3.9, -1])
    const m = regressionMetrics(yTrue, yPred)
    near(m.rmse, 0.5586441920698123) // mean_squared_error(squared=False)
    near(m.mae, 0.47500000000000003) // mean_absolute_error
    near(m.r2, 0.961565105837075) // r2_score
    near(m.mape, 0.2875350140056022) // mean_absolute_percentage_error (a fraction, not a percent)
    expect(m.n).toBe(6)
  })

  it('omits MAPE when any true value is 0', () => {
    const m = regressionMetrics([0, 1, 2], [0.5, 1, 2])
    expect(m.mape).toBeUndefined()
    expect('mape' in flattenMetrics(m)).toBe(false)
  })

  it('follows sklearn for a constant target: R² is 1 when perfect and 0 otherwise', () => {
    expect(regressionMetrics([2, 2, 2], [2, 2, 2]).r2).toBe(1)
    expect(regressionMetrics([2, 2, 2], [2, 2, 2.5]).r2).toBe(0)
  })

  it('can give a negative R² for a model worse than predicting the mean', () => {
    // SSres = 8, SStot = 2 → 1 - 4 = -3.
    expect(regressionMetrics([1, 3], [3, 1]).r2).toBe(-3)
  })

  it('rejects non-finite values, mismatched lengths and empty input', () => {
    expect(() => regressionMetrics([1, Number.NaN], [1, 2])).toThrow(
      expect.objectContaining({code: 'E_DATA_METRICS_NONFINITE'}),
    )
    expect(() => regressionMetrics([1, 2], [1])).toThrow(expect.objectContaining({code: 'E_DATA_METRICS_LENGTH'}))
    expect(() => regressionMetrics([], [])).toThrow(expect.objectContaining({code: 'E_DATA_METRICS_EMPTY'}))
  })
})

describe('flattenMetrics', () => {
  it('maps classification metrics to snake_case names and leaves out per-class detail', () => {
    const m: ClassificationMetrics = {
      accuracy: 0.9,
      balancedAccuracy: 0.8,
      precisionMacro: 0.7,
      recallMacro: 0.6,
      f1Macro: 0.5,
      auc: 0.95,
      logLoss: 0.3,
      perClass: [{label: 'x', precision: 1, recall: 1, f1: 1, support: 1}],
      confusionMatrix: [[1]],
      labels: ['x'],
    }
    expect(flattenMetrics(m)).toEqual({
      accuracy: 0.9,
      balanced_accuracy: 0.8,
      precision: 0.7,
      recall: 0.6,
      f1: 0.5,
      auc: 0.95,
      log_loss: 0.3,
    })
  })

  it('leaves out metrics that were not computed', () => {
    const m = classificationMetrics(Int32Array.from([0, 1]), Int32Array.from([0, 1]), ['n', 'y'])
    expect(Object.keys(flattenMetrics(m)).sort()).toEqual([
      'accuracy',
      'balanced_accuracy',
      'f1',
      'precision',
      'recall',
    ])
  })

  it('maps regression metrics without the row count', () => {
    expect(flattenMetrics({rmse: 1, mae: 2, r2: 0.5, mape: 0.1, n: 10})).toEqual({rmse: 1, mae: 2, r2: 0.5, mape: 0.1})
  })

  it('only produces names that METRIC_NAMES describes and metricDirection knows', () => {
    const names = [
      ...Object.keys(flattenMetrics({rmse: 1, mae: 2, r2: 0.5, mape: 0.1, n: 10})),
      ...Object.keys(
        flattenMetrics(
          classificationMetrics(Int32Array.from([0, 1]), Int32Array.from([0, 1]), ['n', 'y'], [0.9, 0.1, 0.2, 0.8]),
        ),
      ),
    ]
    expect(names.sort()).toEqual(Object.keys(METRIC_NAMES).sort())
    for (const name of names) expect(metricDirection(name)).toBeDefined()
  })
})

describe('metricDirection', () => {
  it('says higher is better for scores and lower is better for errors', () => {
    for (const name of ['accuracy', 'balanced_accuracy', 'precision', 'recall', 'f1', 'auc', 'r2']) {
      expect(metricDirection(name), name).toBe('higher')
    }
    for (const name of ['rmse', 'mae', 'mape', 'log_loss']) expect(metricDirection(name), name).toBe('lower')
  })

  it('returns undefined for unknown names, including Object.prototype keys', () => {
    expect(metricDirection('speed')).toBeUndefined()
    expect(metricDirection('constructor')).toBeUndefined()
    expect(metricDirection('__proto__')).toBeUndefined()
  })
})

describe('parseGate', () => {
  it('reads every operator, with or without spaces', () => {
    expect(parseGate('auc<0.85')).toEqual({expression: 'auc<0.85', metric: 'auc', op: '<', threshold: 0.85})
    expect(parseGate('rmse>=12')).toEqual({expression: 'rmse>=12', metric: 'rmse', op: '>=', threshold: 12})
    expect(parseGate('accuracy < 0.9')).toEqual({
      expression: 'accuracy < 0.9',
      metric: 'accuracy',
      op: '<',
      threshold: 0.9,
    })
    expect(parseGate('  f1 <= .5 ').op).toBe('<=')
    expect(parseGate('mae > 3').op).toBe('>')
    expect(parseGate('r2==1').op).toBe('==')
    expect(parseGate('log_loss != 0').op).toBe('!=')
  })

  it('accepts signed, decimal and exponent thresholds', () => {
    expect(parseGate('r2 < -0.5').threshold).toBe(-0.5)
    expect(parseGate('r2 < +0.5').threshold).toBe(0.5)
    expect(parseGate('rmse > 1e3').threshold).toBe(1000)
    expect(parseGate('log_loss>2.5E-1').threshold).toBe(0.25)
    expect(parseGate('mae > 7.').threshold).toBe(7)
  })

  it('accepts metric names in any case and stores them in canonical form', () => {
    expect(parseGate('AUC<0.85').metric).toBe('auc')
  })

  it.each([
    '',
    'auc',
    'auc<',
    '<0.85',
    'auc<<0.85',
    'auc=>0.85',
    'auc<0.85 extra',
    'auc<abc',
    'auc<0x10',
    'auc<Infinity',
    'auc<1_000',
    'auc<85%',
    'auc < 0. 85',
  ])('rejects the malformed gate %j with a usage error whose hint shows the form', expression => {
    const error = catchError(() => parseGate(expression))
    expect(error).toBeInstanceOf(UsageError)
    expect(error).toMatchObject({code: 'E_USAGE_GATE'})
    expect((error as UsageError).hint).toContain('auc<0.85')
  })

  it('suggests "==" when a single "=" is used', () => {
    const error = catchError(() => parseGate('accuracy=0.9')) as UsageError
    expect(error.code).toBe('E_USAGE_GATE')
    expect(error.hint).toContain('"=="')
  })

  it('rejects an unknown metric and lists the known ones in the hint', () => {
    const error = catchError(() => parseGate('speed < 3')) as UsageError
    expect(error).toBeInstanceOf(UsageError)
    expect(error.code).toBe('E_USAGE_GATE')
    expect(error.message).toContain('speed')
    for (const name of Object.keys(METRIC_NAMES)) expect(error.hint).toContain(name)
    expect(error.details).toMatchObject({metric: 'speed'})
  })

  it('does not mistake Object.prototype keys for metrics', () => {
    expect(() => parseGate('constructor<1')).toThrow(UsageError)
    expect(() => parseGate('__proto__<1')).toThrow(UsageError)
  })
})

describe('checkGates', () => {
  const metrics = {accuracy: 0.9, auc: 0.82, log_loss: 0.35}

  it('passes a gate whose failure condition is false', () => {
    const [result] = checkGates([parseGate('auc < 0.8')], metrics)
    expect(result).toEqual({
      expression: 'auc < 0.8',
      metric: 'auc',
      op: '<',
      threshold: 0.8,
      value: 0.82,
      failed: false,
    })
  })

  it('fails a gate whose failure condition is true and says why', () => {
    const [result] = checkGates([parseGate('auc<0.85')], metrics)
    expect(result).toMatchObject({metric: 'auc', value: 0.82, failed: true})
    expect(result!.reason).toContain('0.82')
  })

  it('evaluates each operator in the "fail if" sense, including at the boundary', () => {
    const results = checkGates(
      ['accuracy<0.9', 'accuracy<=0.9', 'accuracy>0.9', 'accuracy>=0.9', 'accuracy==0.9', 'accuracy!=0.9'].map(
        parseGate,
      ),
      metrics,
    )
    expect(results.map(r => r.failed)).toEqual([false, true, false, true, true, false])
  })

  it('fails a gate on a metric that was not computed and names the available ones', () => {
    const [rmse, accuracy] = checkGates([parseGate('rmse > 10'), parseGate('accuracy < 0.5')], metrics)
    expect(rmse).toMatchObject({metric: 'rmse', value: undefined, failed: true})
    expect(rmse!.reason).toContain('rmse')
    expect(rmse!.reason).toContain('not available')
    expect(rmse!.reason).toContain('accuracy, auc, log_loss')
    expect(accuracy).toMatchObject({failed: false})
  })

  it('treats a NaN metric value as not available rather than letting it pass', () => {
    const [result] = checkGates([parseGate('auc < 0.8')], {auc: Number.NaN, accuracy: 1})
    expect(result).toMatchObject({value: undefined, failed: true})
    expect(result!.reason).toContain('available: accuracy')
  })

  it('returns one result per gate, in order, and none for no gates', () => {
    expect(checkGates([], metrics)).toEqual([])
    const results = checkGates([parseGate('auc<0.85'), parseGate('accuracy<0.5'), parseGate('r2<0')], metrics)
    expect(results.map(r => [r.metric, r.failed])).toEqual([
      ['auc', true],
      ['accuracy', false],
      ['r2', true],
    ])
  })
})
