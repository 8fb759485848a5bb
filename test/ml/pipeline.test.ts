// Preprocessing, target encoding, splitting and parameter parsing: the pure pieces of a training pipeline.
import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import {ALGORITHMS, getAlgorithm} from '../../src/ml/algorithms.js'
import {categoricalFromStrings, numericColumn} from '../../src/ml/frame.js'
import {resolveParams} from '../../src/ml/params.js'
import {fitPreprocessor, median, transform} from '../../src/ml/preprocess.js'
import {trainTestSplit} from '../../src/ml/split.js'
import {encodeTarget, inferTask} from '../../src/ml/target.js'

describe('median', () => {
  it('matches numpy for odd and even counts', () => {
    expect(median(Float64Array.from([3, 1, 2]))).toBe(2)
    expect(median(Float64Array.from([4, 1, 3, 2]))).toBe(2.5)
    expect(median(Float64Array.from([5, 5, 5, 1]))).toBe(5)
  })
})

describe('preprocessing', () => {
  const frame = {
    nRows: 4,
    columns: [
      numericColumn('n', Float64Array.from([1, Number.NaN, 3, 5])),
      categoricalFromStrings('c', ['b', null, 'a', 'b']),
    ],
  }

  it('imputes the median, standardises numbers and one-hot encodes with a missing level', () => {
    const pre = fitPreprocessor(frame, {impute: true, standardize: true, encoding: 'onehot'})
    expect(pre.featureNames).toEqual(['n', 'c=a', 'c=b', 'c=<missing>'])
    const X = transform(pre, frame)
    // n: values 1, 3, 5 → median 3, mean 3, population std sqrt(8/3)
    const s = Math.sqrt(8 / 3)
    expect(Array.from(X)).toEqual([-2 / s, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2 / s, 0, 1, 0])
  })

  it('encodes categories never seen in training as all zeros', () => {
    const pre = fitPreprocessor(frame, {impute: true, standardize: true, encoding: 'onehot'})
    const unseen = {
      nRows: 1,
      columns: [numericColumn('n', Float64Array.from([3])), categoricalFromStrings('c', ['zebra'])],
    }
    expect(Array.from(transform(pre, unseen))).toEqual([0, 0, 0, 0])
  })

  it('keeps NaN and level codes for ordinal encoding', () => {
    const pre = fitPreprocessor(frame, {impute: false, standardize: false, encoding: 'ordinal'})
    expect(Array.from(transform(pre, frame))).toEqual([1, 1, Number.NaN, Number.NaN, 3, 0, 5, 1])
  })
})

describe('targets', () => {
  it('infers classification for text and for exactly two numbers, regression otherwise', () => {
    expect(inferTask(categoricalFromStrings('y', ['a', 'b']))).toBe('classification')
    expect(inferTask(numericColumn('y', Float64Array.from([0, 1, 1, Number.NaN])))).toBe('classification')
    expect(inferTask(numericColumn('y', Float64Array.from([0, 1, 2])))).toBe('regression')
  })

  it('orders classes as scikit-learn does and keeps integer labels as integers', () => {
    const text = encodeTarget(categoricalFromStrings('y', ['b', 'a', null, 'b']), 'classification', 'x')
    expect(text).toMatchObject({classes: ['a', 'b'], labelType: 'string'})
    expect(Array.from(text.task === 'classification' ? text.y : [])).toEqual([1, 0, -1, 1])
    const ints = encodeTarget(numericColumn('y', Float64Array.from([10, 2, 10])), 'classification', 'x')
    expect(ints).toMatchObject({classes: ['2', '10'], labelType: 'integer'})
  })
})

describe('split', () => {
  it('holds out the requested share of every class, deterministically', () => {
    const strata = Int32Array.from({length: 100}, (_, i) => (i < 80 ? 0 : 1))
    const a = trainTestSplit(100, 0.25, 1, strata)
    expect(a.test.length).toBe(25)
    expect(Array.from(a.test).filter(i => i >= 80).length).toBe(5)
    expect(trainTestSplit(100, 0.25, 1, strata)).toEqual(a)
    expect(trainTestSplit(100, 0.25, 2, strata).test).not.toEqual(a.test)
  })

  it('puts every row in train for test size 0', () => {
    expect(trainTestSplit(10, 0, 1).test.length).toBe(0)
  })
})

describe('parameters', () => {
  const logistic = ALGORITHMS.logistic!

  it('fills defaults and accepts camelCase or kebab-case keys', () => {
    expect(resolveParams('logistic', logistic.params, ['max-iter=20', 'c=0.5'])).toEqual({
      c: 0.5,
      maxIter: 20,
      tol: 1e-4,
      fitIntercept: true,
    })
  })

  it('refuses unknown keys, listing the valid ones', () => {
    expect(() => resolveParams('logistic', logistic.params, ['alpha=1'])).toThrow(/unknown parameter "alpha"/)
    try {
      resolveParams('logistic', logistic.params, ['alpha=1'])
    } catch (error) {
      expect((error as UsageError).hint).toBe('valid keys for logistic: c, maxIter, tol, fitIntercept')
    }
  })

  it('refuses values of the wrong type or range', () => {
    expect(() => resolveParams('logistic', logistic.params, ['c=0'])).toThrow(UsageError)
    expect(() => resolveParams('logistic', logistic.params, ['maxIter=1.5'])).toThrow(UsageError)
    expect(() => resolveParams('logistic', logistic.params, ['fitIntercept=maybe'])).toThrow(UsageError)
    expect(() => resolveParams('logistic', logistic.params, ['c'])).toThrow(UsageError)
  })

  it('refuses an unknown algorithm, listing the valid ones', () => {
    expect(() => getAlgorithm('svm')).toThrow(UsageError)
  })
})
